import DynamoDBModel
import JSONCoding

/// Which request parameters each operation takes. Anything else is refused by name: a parameter
/// the engine ignored would be a silent difference from DynamoDB (an ignored condition is data
/// corruption). Source: the DynamoDB API Reference, each action's "Request Parameters".
enum Parameters {
    static let expressions: Set<String> = ["ExpressionAttributeNames", "ExpressionAttributeValues"]
    static let capacity: Set<String> = ["ReturnConsumedCapacity"]

    static let accepted: [String: Set<String>] = [
        "PutItem": [
            "TableName", "Item", "ConditionExpression", "ReturnValues", "ReturnItemCollectionMetrics",
            "ReturnValuesOnConditionCheckFailure", "Expected", "ConditionalOperator",
        ],
        "GetItem": ["TableName", "Key", "ProjectionExpression", "ConsistentRead", "AttributesToGet"],
        "UpdateItem": [
            "TableName", "Key", "UpdateExpression", "ConditionExpression", "ReturnValues",
            "ReturnItemCollectionMetrics", "ReturnValuesOnConditionCheckFailure", "AttributeUpdates", "Expected",
            "ConditionalOperator",
        ],
        "DeleteItem": [
            "TableName", "Key", "ConditionExpression", "ReturnValues", "ReturnItemCollectionMetrics",
            "ReturnValuesOnConditionCheckFailure", "Expected", "ConditionalOperator",
        ],
        "Query": [
            "TableName", "IndexName", "KeyConditionExpression", "FilterExpression", "ProjectionExpression", "Select",
            "Limit", "ConsistentRead", "ScanIndexForward", "ExclusiveStartKey", "KeyConditions", "QueryFilter",
            "ConditionalOperator", "AttributesToGet",
        ],
        "Scan": [
            "TableName", "IndexName", "FilterExpression", "ProjectionExpression", "Select", "Limit", "ConsistentRead",
            "ExclusiveStartKey", "Segment", "TotalSegments", "ScanFilter", "ConditionalOperator", "AttributesToGet",
        ],
        "BatchWriteItem": ["RequestItems", "ReturnItemCollectionMetrics"],
        "BatchGetItem": ["RequestItems"],
        "TransactWriteItems": ["TransactItems", "ClientRequestToken", "ReturnItemCollectionMetrics"],
        "TransactGetItems": ["TransactItems"],
        "CreateTable": [
            "TableName", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes",
            "BillingMode", "ProvisionedThroughput", "StreamSpecification", "SSESpecification", "Tags", "TableClass",
            "DeletionProtectionEnabled", "OnDemandThroughput", "WarmThroughput",
        ],
        "UpdateTable": [
            "TableName", "AttributeDefinitions", "BillingMode", "ProvisionedThroughput", "GlobalSecondaryIndexUpdates",
            "StreamSpecification", "SSESpecification", "TableClass", "DeletionProtectionEnabled", "OnDemandThroughput",
            "WarmThroughput",
        ],
        "DescribeTable": ["TableName"], "DeleteTable": ["TableName"],
        "ListTables": ["ExclusiveStartTableName", "Limit"],
        "UpdateTimeToLive": ["TableName", "TimeToLiveSpecification"], "DescribeTimeToLive": ["TableName"],
        "TagResource": ["ResourceArn", "Tags"], "UntagResource": ["ResourceArn", "TagKeys"],
        "ListTagsOfResource": ["ResourceArn", "NextToken"],
        "DescribeLimits": [], "DescribeEndpoints": [],
    ]
    /// Operations whose items may use expressions; every item operation reports consumed capacity.
    static let withExpressions: Set<String> = ["PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan"]
    static let withCapacity: Set<String> = [
        "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem", "BatchGetItem",
        "TransactWriteItems", "TransactGetItems",
    ]
    /// Parameters DynamoDB has that this engine does not implement: refused with that reason.
    static let unimplemented: [String: Set<String>] = [
        "UpdateTable": ["ReplicaUpdates", "MultiRegionConsistency", "GlobalTableWitnessUpdates"],
        "CreateTable": ["ResourcePolicy"],
    ]
    /// The members of each transaction action and BatchGetItem table entry.
    static let transactionActions: [String: Set<String>] = [
        "Put": ["TableName", "Item", "ConditionExpression", "ReturnValuesOnConditionCheckFailure"],
        "Update": [
            "TableName", "Key", "UpdateExpression", "ConditionExpression", "ReturnValuesOnConditionCheckFailure",
        ],
        "Delete": ["TableName", "Key", "ConditionExpression", "ReturnValuesOnConditionCheckFailure"],
        "ConditionCheck": ["TableName", "Key", "ConditionExpression", "ReturnValuesOnConditionCheckFailure"],
        "Get": ["TableName", "Key", "ProjectionExpression"],
    ]
    static let batchGetTable: Set<String> = ["Keys", "ProjectionExpression", "ConsistentRead", "AttributesToGet"]

    /// Refuses parameters `operation` does not take (or this engine does not implement).
    static func check(_ request: JSONValue, operation: String) throws(DynamoDBError) {
        guard var allowed = accepted[operation] else { return }
        if withExpressions.contains(operation) { allowed.formUnion(expressions) }
        if withCapacity.contains(operation) { allowed.formUnion(capacity) }
        try check(request, allowed: allowed, unimplemented: unimplemented[operation] ?? [], context: operation)
        try checkStyle(request)
    }

    static func check(_ request: JSONValue, allowed: Set<String>, unimplemented: Set<String> = [], context: String)
        throws(DynamoDBError)
    {
        for name in request.objectValue?.keys ?? [] where !allowed.contains(name) {
            if unimplemented.contains(name) {
                throw .validation("\(name) is not supported by the local DynamoDB (\(context)); remove it")
            }
            throw .validation(
                "1 validation error detected: Unknown parameter '\(name)' in \(context): the local DynamoDB refuses parameters it does not know rather than ignore them"
            )
        }
    }

    static let expressionStyle = [
        "ConditionExpression", "UpdateExpression", "ProjectionExpression", "FilterExpression", "KeyConditionExpression",
    ]
    static let legacyStyle = [
        "Expected", "AttributeUpdates", "AttributesToGet", "KeyConditions", "QueryFilter", "ScanFilter",
        "ConditionalOperator",
    ]

    /// DynamoDB refuses a request that mixes the expression parameters with the pre-expression ones,
    /// and expression attribute names or values without an expression.
    static func checkStyle(_ request: JSONValue) throws(DynamoDBError) {
        let object = request.objectValue ?? [:]
        let modern = expressionStyle.filter { object[$0] != nil }
        let legacy = legacyStyle.filter { object[$0] != nil }
        if !modern.isEmpty, !legacy.isEmpty {
            throw .validation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {\(legacy.joined(separator: ", "))} Expression parameters: {\(modern.joined(separator: ", "))}"
            )
        }
        if modern.isEmpty {
            for name in ["ExpressionAttributeNames", "ExpressionAttributeValues"] where object[name] != nil {
                throw .validation("\(name) can only be specified when using expressions")
            }
        }
    }

    /// A member the wire format types as a list or a map, refused as DynamoDB's deserializer
    /// refuses another JSON type: a SerializationException before any validation (observed; the
    /// messages are those compatibility suites run against the service quote).
    static func list(_ value: JSONValue) throws(DynamoDBError) -> [JSONValue] {
        switch value {
        case .array(let members): return members
        case .object: throw .serialization("Start of structure or map found where not expected.")
        default: throw .serialization("Expected list or null")
        }
    }

    static func map(_ value: JSONValue) throws(DynamoDBError) -> JSONObject {
        switch value {
        case .object(let members): return members
        case .array: throw .serialization("Start of list found where not expected")
        default: throw .serialization("Expected map or null")
        }
    }
}
