import JSONCoding
import Logging
import Platform

/// What Lambda tells a handler about the invocation it is serving.
public struct LambdaContext: Sendable {
    public let requestID: String
    /// Absolute deadline, Unix epoch milliseconds.
    public let deadlineMilliseconds: Int64
    public let invokedFunctionARN: String
    /// X-Ray trace header (`Root=...;Parent=...;Sampled=...`), also exported as `_X_AMZN_TRACE_ID`.
    public let traceID: String?
    /// Present for Mobile SDK invocations only.
    public let clientContext: JSONValue?
    public let cognitoIdentity: JSONValue?
    public let tenantID: String?
    /// A logger whose lines carry this invocation's request and trace ids.
    public let logger: Logger
    /// What the invocation records for the runtime's metrics and traces (its route, its AWS calls).
    public let telemetry: InvocationTelemetry

    public init(
        requestID: String, deadlineMilliseconds: Int64, invokedFunctionARN: String, traceID: String? = nil,
        clientContext: JSONValue? = nil, cognitoIdentity: JSONValue? = nil, tenantID: String? = nil,
        logger: Logger, telemetry: InvocationTelemetry = InvocationTelemetry()
    ) {
        self.requestID = requestID
        self.deadlineMilliseconds = deadlineMilliseconds
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.tenantID = tenantID
        self.telemetry = telemetry
        var logger = logger
        logger[metadataKey: "requestId"] = .string(requestID)
        if let traceID { logger[metadataKey: "traceId"] = .string(traceID) }
        self.logger = logger
    }

    /// The invocation the current task serves (set by the runtime around each handler call), so
    /// clients can bound retries by the remaining time without it being passed everywhere.
    @TaskLocal public static var current: LambdaContext?

    /// Milliseconds left before Lambda stops the invocation.
    public var remainingMilliseconds: Int64 { deadlineMilliseconds - WallClock.nowMilliseconds() }

    /// The region and account, parsed from the invoked function ARN.
    public var region: String? { arnPart(3) }
    public var accountID: String? { arnPart(4) }

    private func arnPart(_ index: Int) -> String? {
        let parts = invokedFunctionARN.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > index ? String(parts[index]) : nil
    }
}
