import DynamoDBModel
import JSONCoding

/// Why a transaction item was cancelled.
public struct CancellationReason: Sendable, Equatable {
    public var code: String
    public var message: String?
    public var item: Item?
}

/// A DynamoDB error with the service's own message.
public enum DynamoDBClientError: Error, Sendable, CustomStringConvertible {
    /// `ConditionalCheckFailedException`; `item` is the old item when ReturnValuesOnConditionCheckFailure=ALL_OLD.
    case conditionalCheckFailed(message: String, item: Item?)
    case transactionCanceled(message: String, reasons: [CancellationReason])
    case validation(message: String)
    case resourceNotFound(message: String)
    case throttled(type: String, message: String)
    case service(type: String, status: Int, message: String)
    case transport(String)

    public var description: String {
        switch self {
        case .conditionalCheckFailed(let m, _): "ConditionalCheckFailedException: \(m)"
        case .transactionCanceled(let m, _): "TransactionCanceledException: \(m)"
        case .validation(let m): "ValidationException: \(m)"
        case .resourceNotFound(let m): "ResourceNotFoundException: \(m)"
        case .throttled(let t, let m), .service(let t, _, let m): "\(t): \(m)"
        case .transport(let m): "transport: \(m)"
        }
    }

    /// The HTTP status of the answer that carried the error (nil: none came); throttling is a 400.
    var status: Int? {
        switch self {
        case .transport: nil
        case .service(_, let status, _): status
        default: 400
        }
    }

    /// The service's error type, as DynamoDB names it.
    var type: String {
        switch self {
        case .conditionalCheckFailed: "ConditionalCheckFailedException"
        case .transactionCanceled: "TransactionCanceledException"
        case .validation: "ValidationException"
        case .resourceNotFound: "ResourceNotFoundException"
        case .throttled(let type, _), .service(let type, _, _): type
        case .transport: "Transport"
        }
    }

    /// Throttling and server errors are worth retrying; everything else is final.
    var retryable: Bool {
        switch self {
        case .throttled, .transport: true
        case .service(_, let status, _): status >= 500
        default: false
        }
    }

    /// Throughput refusals, worth retrying. (An item collection over 10 GB is not one: it stays so.)
    static let throttlingTypes: Set<String> = [
        "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
        "LimitExceededException",
    ]

    /// Reads an error response: `__type` (`namespace#Name`) and `message`/`Message`.
    init(status: Int, body: [UInt8], errorTypeHeader: String?) {
        let json = (try? JSONValue.parse(body)) ?? .null
        var type = json["__type"]?.stringValue ?? errorTypeHeader ?? "HTTP\(status)"
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
        let message = json["message"]?.stringValue ?? json["Message"]?.stringValue ?? ""
        switch type {
        case "ConditionalCheckFailedException":
            self = .conditionalCheckFailed(
                message: message, item: json["Item"].flatMap { try? AttributeValue.item(wire: $0) })
        case "TransactionCanceledException":
            let reasons = (json["CancellationReasons"]?.arrayValue ?? []).map {
                CancellationReason(
                    code: $0["Code"]?.stringValue ?? "None", message: $0["Message"]?.stringValue,
                    item: $0["Item"].flatMap { try? AttributeValue.item(wire: $0) })
            }
            self = .transactionCanceled(message: message, reasons: reasons)
        case "ValidationException": self = .validation(message: message)
        case "ResourceNotFoundException": self = .resourceNotFound(message: message)
        case _ where Self.throttlingTypes.contains(type): self = .throttled(type: type, message: message)
        default: self = .service(type: type, status: status, message: message)
        }
    }
}
