import DynamoDBModel
import JSONCoding

/// An error as DynamoDB sends it: HTTP status, `__type` and message (and extra members).
public struct DynamoDBError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let type: String
    public let message: String
    public var extra: JSONObject = [:]

    public var description: String { "\(type.split(separator: "#").last ?? ""): \(message)" }

    static let dynamo = "com.amazonaws.dynamodb.v20120810#"

    public static func validation(_ message: String) -> DynamoDBError {
        DynamoDBError(status: 400, type: "com.amazon.coral.validate#ValidationException", message: message)
    }
    static func conditionalCheckFailed(item: Item?) -> DynamoDBError {
        var error = DynamoDBError(
            status: 400, type: dynamo + "ConditionalCheckFailedException", message: "The conditional request failed")
        if let item { error.extra["Item"] = AttributeValue.wire(item) }
        return error
    }
    static func resourceNotFound(_ message: String = "Requested resource not found") -> DynamoDBError {
        DynamoDBError(status: 400, type: dynamo + "ResourceNotFoundException", message: message)
    }
    static func resourceInUse(_ message: String) -> DynamoDBError {
        DynamoDBError(status: 400, type: dynamo + "ResourceInUseException", message: message)
    }
    /// An operator or function given an operand of a type it does not take, in expression `kind`.
    static func incorrectOperandType(in kind: String, _ function: String, _ type: String) -> DynamoDBError {
        .validation(
            "Invalid \(kind): Incorrect operand type for operator or function; operator or function: \(function), operand type: \(type)"
        )
    }
    /// IAM's refusal, as DynamoDB returns it for a resource the caller may not touch (the local
    /// DynamoDB's caller is its one account's root).
    static func accessDenied(_ action: String, resource: String) -> DynamoDBError {
        DynamoDBError(
            status: 400, type: "com.amazon.coral.service#AccessDeniedException",
            message:
                "User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:\(action) on resource: \(resource)"
        )
    }
    static func serialization(_ message: String) -> DynamoDBError {
        DynamoDBError(status: 400, type: "com.amazon.coral.service#SerializationException", message: message)
    }
    static func unknownOperation() -> DynamoDBError {
        DynamoDBError(status: 400, type: "com.amazon.coral.service#UnknownOperationException", message: "")
    }
    static func missingAuthentication() -> DynamoDBError {
        DynamoDBError(
            status: 400, type: "com.amazon.coral.service#MissingAuthenticationTokenException",
            message: "Request is missing Authentication Token")
    }
    static func idempotentMismatch() -> DynamoDBError {
        DynamoDBError(
            status: 400, type: dynamo + "IdempotentParameterMismatchException",
            message: "Request token mismatch for an idempotent transaction")
    }
    /// DynamoDB's answer to a request over a table's throughput (Developer Guide, "Error handling").
    static func throttled() -> DynamoDBError {
        DynamoDBError(
            status: 400, type: dynamo + "ProvisionedThroughputExceededException",
            message:
                "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
        )
    }
    static func internalFailure(_ message: String) -> DynamoDBError {
        DynamoDBError(status: 500, type: "com.amazonaws.dynamodb.v20120810#InternalServerError", message: message)
    }

    var body: JSONValue {
        var object: JSONObject = ["__type": .string(type), "message": .string(message)]
        for (k, v) in extra { object[k] = v }
        return .object(object)
    }
}
