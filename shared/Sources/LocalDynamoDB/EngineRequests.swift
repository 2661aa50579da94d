import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// What every operation reads from a request: substitutions, items, conditions, projections.
extension Engine {
    func substitutions(_ request: JSONValue) throws(DynamoDBError) -> Substitutions {
        var names: [String: String] = [:]
        for (k, v) in request["ExpressionAttributeNames"]?.objectValue ?? [:] { names[k] = v.stringValue }
        var values: [String: AttributeValue] = [:]
        do {
            for (k, v) in request["ExpressionAttributeValues"]?.objectValue ?? [:] {
                values[k] = try AttributeValue(wire: v)
            }
        } catch {
            throw .validation(
                "ExpressionAttributeValues contains invalid value: \(error.description) for key \(values.count)")
        }
        return Substitutions(names: names, values: values)
    }

    func item(_ value: JSONValue?, _ field: String) throws(DynamoDBError) -> Item {
        guard value != nil else {
            throw .validation(
                "1 validation error detected: Value null at '\(field.prefix(1).lowercased() + field.dropFirst())' failed to satisfy constraint: Member must not be null"
            )
        }
        do { return try AttributeValue.item(wire: value) } catch {
            throw .validation("One or more parameter values were invalid: \(error.description)")
        }
    }

    func condition(_ request: JSONValue, _ subs: Substitutions, field: String = "ConditionExpression")
        throws(DynamoDBError) -> Condition?
    {
        guard let text = request[field]?.stringValue else { return nil }
        return try ExpressionParser.parseCondition(text, kind: field, subs)
    }

    func projection(_ request: JSONValue, _ subs: Substitutions) throws(DynamoDBError) -> [DocumentPath]? {
        guard let text = request["ProjectionExpression"]?.stringValue else { return nil }
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
