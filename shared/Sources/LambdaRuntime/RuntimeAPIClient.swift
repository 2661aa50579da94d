import JSONCoding
import Platform

/// One event from `/runtime/invocation/next`.
public struct Invocation: Sendable {
    public let requestID: String
    public let deadlineMilliseconds: Int64
    public let invokedFunctionARN: String
    public let traceID: String?
    public let clientContext: JSONValue?
    public let cognitoIdentity: JSONValue?
    public let tenantID: String?
    public let event: [UInt8]
}

/// An error document as the Runtime API takes it on `/error` and `/init/error`.
public struct ErrorReport: Sendable, Equatable {
    public var errorType: String
    public var errorMessage: String
    public var stackTrace: [String]

    public init(errorType: String, errorMessage: String, stackTrace: [String] = []) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.stackTrace = stackTrace
    }

    /// Describes a thrown Swift error: its type name and description.
    public init(_ error: any Error) {
        let name = String(describing: type(of: error))
        self.init(
            errorType: name, errorMessage: String(describing: error),
            stackTrace: String(reflecting: error).split(separator: "\n").map(String.init))
    }

    /// The `Lambda-Runtime-Function-Error-Type` value, in AWS's `Category.Reason` form.
    public var headerValue: String {
        let reason = errorType.filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard let first = reason.first, first.isUppercase else { return "Function.Unhandled" }
        return "Function.\(reason)"
    }

    var document: [UInt8] {
        JSONValue.object(
            JSONObject([
                ("errorMessage", .string(errorMessage)), ("errorType", .string(errorType)),
                ("stackTrace", .array(stackTrace.map(JSONValue.string))),
            ])
        ).serialized()
    }
}

/// What Lambda said to a posted response.
enum PostOutcome: Equatable {
    case accepted
    case tooLarge
    case rejected(status: Int, body: String)
}

/// Client of the Lambda Runtime API (2018-06-01) over one keep-alive connection.
final class RuntimeAPIClient {
    static let prefix = "/2018-06-01/runtime"
    let connection: HTTPConnection

    init(endpoint: String) throws(RuntimeAPIError) {
        connection = try HTTPConnection(endpoint: endpoint)
    }

    func next() throws(RuntimeAPIError) -> Invocation {
        let response = try connection.request("GET", "\(Self.prefix)/invocation/next")
        guard response.status == 200 else {
            throw RuntimeAPIError(
                "/next answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        guard let requestID = response.header("lambda-runtime-aws-request-id"), !requestID.isEmpty else {
            throw RuntimeAPIError("/next answered without Lambda-Runtime-Aws-Request-Id")
        }
        func json(_ name: String) -> JSONValue? {
            response.header(name).flatMap { try? JSONValue.parse($0) }
        }
        return Invocation(
            requestID: requestID,
            deadlineMilliseconds: response.header("lambda-runtime-deadline-ms").flatMap { Int64($0) }
                ?? WallClock.nowMilliseconds() + 3_000,
            invokedFunctionARN: response.header("lambda-runtime-invoked-function-arn") ?? "",
            traceID: response.header("lambda-runtime-trace-id"),
            clientContext: json("lambda-runtime-client-context"),
            cognitoIdentity: json("lambda-runtime-cognito-identity"),
            tenantID: response.header("lambda-runtime-aws-tenant-id"),
            event: response.body)
    }

    func respond(requestID: String, body: [UInt8]) throws(RuntimeAPIError) -> PostOutcome {
        let response = try connection.request(
            "POST", "\(Self.prefix)/invocation/\(requestID)/response", body: body)
        return outcome(response)
    }

    /// Starts a streamed response (Lambda Developer Guide, "Implementing response streaming in a
    /// custom runtime"): the streaming response mode, chunked, the error trailers declared.
    func beginStream(requestID: String, contentType: String) throws(RuntimeAPIError) {
        try connection.beginChunked(
            "POST", "\(Self.prefix)/invocation/\(requestID)/response",
            headers: [
                ("Lambda-Runtime-Function-Response-Mode", "streaming"), ("Content-Type", contentType),
                ("Trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"),
            ])
    }

    func streamChunk(_ bytes: [UInt8], until deadline: Int64) throws(RuntimeAPIError) {
        try connection.writeChunk(bytes, until: deadline)
    }

    /// Ends a streamed response; an error after the first byte travels in the trailers (its type,
    /// and its document in base64). The connection is closed, as the Runtime API asks.
    func endStream(error report: ErrorReport?) throws(RuntimeAPIError) -> PostOutcome {
        let trailers =
            report.map {
                [
                    ("Lambda-Runtime-Function-Error-Type", $0.headerValue),
                    ("Lambda-Runtime-Function-Error-Body", Base64.encode($0.document)),
                ]
            } ?? []
        return outcome(try connection.finishChunked(trailers: trailers))
    }

    func reportError(requestID: String, _ report: ErrorReport) throws(RuntimeAPIError) -> PostOutcome {
        outcome(try post("\(Self.prefix)/invocation/\(requestID)/error", report))
    }

    func reportInitError(_ report: ErrorReport) throws(RuntimeAPIError) -> PostOutcome {
        outcome(try post("\(Self.prefix)/init/error", report))
    }

    private func post(_ path: String, _ report: ErrorReport) throws(RuntimeAPIError) -> HTTPClientResponse {
        try connection.request(
            "POST", path,
            headers: [
                ("Lambda-Runtime-Function-Error-Type", report.headerValue),
                ("Content-Type", "application/vnd.aws.lambda.error+json"),
            ],
            body: report.document)
    }

    private func outcome(_ response: HTTPClientResponse) -> PostOutcome {
        switch response.status {
        case 200..<300: .accepted
        case 413: .tooLarge
        default: .rejected(status: response.status, body: String(decoding: response.body, as: UTF8.self))
        }
    }
}
