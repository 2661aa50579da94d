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

    /// A constant operand of a type the operator does not take (an order comparison or BETWEEN
    /// on anything but S, N or B; begins_with on anything but S or B) makes the expression
    /// invalid, whatever the item holds: a ValidationException naming the operator and the type,
    /// never a condition that is merely false. Observed: compatibility suites run against
    /// DynamoDB quote "Invalid FilterExpression: Incorrect operand type for operator or function;
    /// operator or function: begins_with, operand type: N" (and the same for `<` in PartiQL).
    func checkConstantOperands(kind: String) throws(DynamoDBError) {
        func refuse(_ operand: Operand, _ function: String, unless accepted: (AttributeValue) -> Bool)
            throws(DynamoDBError)
        {
            guard case .value(let v) = operand, !accepted(v) else { return }
            throw .incorrectOperandType(in: kind, function, v.typeName)
        }
        let ordered: (AttributeValue) -> Bool = {
            switch $0 {
            case .s, .n, .b: true
            default: false
            }
        }
        switch self {
        case .compare(let a, let comparator, let b):
            guard comparator != .eq, comparator != .ne else { return }
            try refuse(a, comparator.rawValue, unless: ordered)
            try refuse(b, comparator.rawValue, unless: ordered)
        case .between(let a, let low, let high):
            for operand in [a, low, high] { try refuse(operand, "BETWEEN", unless: ordered) }
        case .beginsWith(let a, let b):
            for operand in [a, b] {
                try refuse(operand, "begins_with") {
                    switch $0 {
                    case .s, .b: true
                    default: false
                    }
                }
            }
        case .and(let a, let b), .or(let a, let b):
            try a.checkConstantOperands(kind: kind)
            try b.checkConstantOperands(kind: kind)
        case .not(let a): try a.checkConstantOperands(kind: kind)
        case .inList, .attributeExists, .attributeNotExists, .attributeType, .contains: return
        }
    }
}

indirect enum UpdateValue {
    case path(DocumentPath)
    case value(AttributeValue)
    case ifNotExists(DocumentPath, UpdateValue)
    case listAppend(UpdateValue, UpdateValue)
    case plus(UpdateValue, UpdateValue)
    case minus(UpdateValue, UpdateValue)

    /// A constant operand that `list_append` (lists) or `+`/`-` (numbers) cannot take is refused
    /// when the expression is read, naming its type; an attribute of the wrong type is found only
    /// against the item (observed: dynalite's suite, run against DynamoDB, quotes these messages).
    func checkConstantOperands() throws(DynamoDBError) {
        let (function, operands, accepts): (String, [UpdateValue], (AttributeValue) -> Bool)
        switch self {
        case .path, .value: return
        case .ifNotExists(_, let fallback): return try fallback.checkConstantOperands()
        case .listAppend(let a, let b):
            (function, operands, accepts) = ("list_append", [a, b], { if case .l = $0 { true } else { false } })
        case .plus(let a, let b):
            (function, operands, accepts) = ("+", [a, b], { if case .n = $0 { true } else { false } })
        case .minus(let a, let b):
            (function, operands, accepts) = ("-", [a, b], { if case .n = $0 { true } else { false } })
        }
        for operand in operands {
            if case .value(let v) = operand, !accepts(v) {
                throw .incorrectOperandType(in: "UpdateExpression", function, v.typeName)
            }
            try operand.checkConstantOperands()
        }
    }
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

    /// `#token`'s name; an undefined one is refused naming the expression (`kind`) it is in.
    func name(_ token: String, in kind: String) throws(DynamoDBError) -> String {
        guard let name = names[token] else {
            throw .validation(
                "Invalid \(kind): An expression attribute name used in the document path is not defined; attribute name: \(token)"
            )
        }
        usedNames.insert(token)
        return name
    }

    func value(_ token: String, in kind: String) throws(DynamoDBError) -> AttributeValue {
        guard let value = values[token] else {
            throw .validation(
                "Invalid \(kind): An expression attribute value used in expression is not defined; attribute value: \(token)"
            )
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
