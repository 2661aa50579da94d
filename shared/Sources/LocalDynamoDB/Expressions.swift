import DynamoDBModel

/// An operand of a condition: a document path, a `:value`, or `size(path)`.
indirect enum Operand {
    case path(DocumentPath)
    case value(AttributeValue)
    case size(DocumentPath)
}

enum Comparator: String {
    case eq = "="
    case ne = "<>"
    case lt = "<"
    case le = "<="
    case gt = ">"
    case ge = ">="
}

indirect enum Condition {
    case compare(Operand, Comparator, Operand)
    case between(Operand, Operand, Operand)
    case inList(Operand, [Operand])
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    case attributeExists(DocumentPath)
    case attributeNotExists(DocumentPath)
    case attributeType(DocumentPath, Operand)
    case beginsWith(Operand, Operand)
    case contains(Operand, Operand)
}

indirect enum UpdateValue {
    case path(DocumentPath)
    case value(AttributeValue)
    case ifNotExists(DocumentPath, UpdateValue)
    case listAppend(UpdateValue, UpdateValue)
    case plus(UpdateValue, UpdateValue)
    case minus(UpdateValue, UpdateValue)
}

struct UpdateExpression {
    var sets: [(DocumentPath, UpdateValue)] = []
    var removes: [DocumentPath] = []
    var adds: [(DocumentPath, AttributeValue)] = []
    var deletes: [(DocumentPath, AttributeValue)] = []

    var allPaths: [DocumentPath] { sets.map(\.0) + removes + adds.map(\.0) + deletes.map(\.0) }
}

/// The `#name` and `:value` substitutions of one request, with use tracking: DynamoDB rejects
/// a request that supplies a placeholder no expression uses.
final class Substitutions {
    let names: [String: String]
    let values: [String: AttributeValue]
    private(set) var usedNames: Set<String> = []
    private(set) var usedValues: Set<String> = []

    init(names: [String: String], values: [String: AttributeValue]) {
        self.names = names
        self.values = values
    }

    func name(_ token: String) throws(DynamoDBError) -> String {
        guard let name = names[token] else {
            throw .validation(
                "Value provided in ExpressionAttributeNames unused in expressions: An expression attribute name used in the document path is not defined; attribute name: \(token)"
            )
        }
        usedNames.insert(token)
        return name
    }

    func value(_ token: String) throws(DynamoDBError) -> AttributeValue {
        guard let value = values[token] else {
            throw .validation(
                "An expression attribute value used in expression is not defined; attribute value: \(token)")
        }
        usedValues.insert(token)
        return value
    }

    func checkAllUsed() throws(DynamoDBError) {
        let unusedNames = Set(names.keys).subtracting(usedNames)
        if !unusedNames.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {\(unusedNames.sorted().joined(separator: ", "))}"
            )
        }
        let unusedValues = Set(values.keys).subtracting(usedValues)
        if !unusedValues.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {\(unusedValues.sorted().joined(separator: ", "))}"
            )
        }
    }
}
