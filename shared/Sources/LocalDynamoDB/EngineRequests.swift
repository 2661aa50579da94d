import DynamoDBModel
import JSONCoding

/// What every operation reads from a request: substitutions, items, conditions, projections.
extension Engine {
    /// A malformed value as DynamoDB refuses it: unreadable payloads (bad base64) as a
    /// SerializationException with the reader's words, the rest as a ValidationException.
    static func refusal(_ error: AttributeValueError, _ validation: String) -> DynamoDBError {
        error.malformedPayload ? .serialization(error.description) : .validation(validation)
    }

    func substitutions(_ request: JSONValue) throws(DynamoDBError) -> Substitutions {
        var names: [String: String] = [:]
        for (k, v) in request["ExpressionAttributeNames"]?.objectValue ?? [:] { names[k] = v.stringValue }
        var values: [String: AttributeValue] = [:]
        do {
            for (k, v) in request["ExpressionAttributeValues"]?.objectValue ?? [:] {
                values[k] = try AttributeValue(wire: v)
            }
        } catch {
            throw Self.refusal(
                error, "ExpressionAttributeValues contains invalid value: \(error.description) for key \(values.count)")
        }
        if values.values.contains(where: { Self.depth($0) > 32 }) {
            throw .validation("Nesting Levels have exceeded supported limits")
        }
        return Substitutions(names: names, values: values)
    }

    func item(_ value: JSONValue?, _ field: String) throws(DynamoDBError) -> Item {
        guard value != nil else {
            throw .validation(
                "1 validation error detected: Value null at '\(field.prefix(1).lowercased() + field.dropFirst())' failed to satisfy constraint: Member must not be null"
            )
        }
        let item: Item
        do { item = try AttributeValue.item(wire: value) } catch {
            throw Self.refusal(error, "One or more parameter values were invalid: \(error.description)")
        }
        try Self.checkShape(item)
        return item
    }

    func condition(_ request: JSONValue, _ subs: Substitutions, field: String = "ConditionExpression")
        throws(DynamoDBError) -> Condition?
    {
        guard let text = request[field]?.stringValue else { return nil }
        return try ExpressionParser.parseCondition(text, kind: field, subs)
    }

    /// The condition a write must meet: ConditionExpression, or the pre-expression Expected.
    /// "Nested attributes: up to 32 levels"; attribute names 1 byte to 64 KB (Service quotas).
    static func checkShape(_ item: Item) throws(DynamoDBError) {
        for (name, value) in item {
            guard !name.isEmpty else {
                throw .validation(
                    "One or more parameter values were invalid: An AttributeValue may not contain an empty attribute name"
                )
            }
            guard name.utf8.count <= 65_535 else {
                throw .validation(
                    "One or more parameter values were invalid: Attribute name is too large, must be less than 65536 bytes"
                )
            }
            if depth(value) > 32 { throw .validation("Nesting Levels have exceeded supported limits") }
        }
    }

    static func depth(_ value: AttributeValue) -> Int {
        switch value {
        case .m(let map): 1 + (map.values.map(depth).max() ?? 0)
        case .l(let list): 1 + (list.map(depth).max() ?? 0)
        default: 0
        }
    }

    func writeCondition(_ request: JSONValue, _ subs: Substitutions) throws(DynamoDBError) -> Condition? {
        if let modern = try condition(request, subs) { return modern }
        return try Legacy.expected(request)
    }

    /// A Query's or Scan's filter: FilterExpression, or QueryFilter/ScanFilter.
    func filterCondition(_ request: JSONValue, _ subs: Substitutions, query: Bool) throws(DynamoDBError) -> Condition? {
        if let modern = try condition(request, subs, field: "FilterExpression") { return modern }
        return try Legacy.filter(request, field: query ? "QueryFilter" : "ScanFilter")
    }

    /// ProjectionExpression, or the pre-expression AttributesToGet.
    func projection(_ request: JSONValue, _ subs: Substitutions) throws(DynamoDBError) -> [DocumentPath]? {
        guard let text = request["ProjectionExpression"]?.stringValue else {
            return try Legacy.attributesToGet(request)
        }
        return try ExpressionParser.parseProjection(text, subs)
    }

    func returnValues(_ request: JSONValue, allowed: Set<String>) throws(DynamoDBError) -> String {
        let value = request["ReturnValues"]?.stringValue ?? "NONE"
        guard allowed.contains(value) else {
            throw .validation(
                "ReturnValues can only be \(allowed.sorted().joined(separator: " or ")) for this operation")
        }
        return value
    }

    func failedCondition(_ request: JSONValue, old: Item?) -> DynamoDBError {
        .conditionalCheckFailed(
            item: request["ReturnValuesOnConditionCheckFailure"]?.stringValue == "ALL_OLD" ? old : nil)
    }
}
