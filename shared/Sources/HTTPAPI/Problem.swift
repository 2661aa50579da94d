import JSONCoding

/// An RFC 9457 problem: thrown by handlers, answered as `application/problem+json`.
public struct HTTPProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// One offending input, named by a JSON Pointer (`/email`) or a parameter name.
    public struct FieldError: Sendable, Equatable, Codable {
        public var pointer: String
        public var detail: String
        public init(pointer: String, detail: String) {
            self.pointer = pointer
            self.detail = detail
        }
    }

    public var status: Int
    public var title: String
    public var detail: String?
    public var type: String
    public var errors: [FieldError]
    public var headers: HTTPHeaders

    public init(
        status: Int, title: String? = nil, detail: String? = nil, type: String = "about:blank",
        errors: [FieldError] = [], headers: HTTPHeaders = [:]
    ) {
        self.status = status
        self.title = title ?? HTTPProblem.reasonPhrase(status)
        self.detail = detail
        self.type = type
        self.errors = errors
        self.headers = headers
    }

    public var description: String { "\(status) \(title)\(detail.map { ": \($0)" } ?? "")" }

    public static func badRequest(_ detail: String, errors: [FieldError] = []) -> HTTPProblem {
        HTTPProblem(status: 400, detail: detail, errors: errors)
    }

    public static func notFound(_ detail: String) -> HTTPProblem { HTTPProblem(status: 404, detail: detail) }

    public static func validation(_ errors: [FieldError]) -> HTTPProblem {
        HTTPProblem(
            status: 400, title: "Validation Failed",
            detail: errors.count == 1 ? errors[0].detail : "\(errors.count) fields are invalid", errors: errors)
    }

    public var response: HTTPResponse {
        var object = JSONObject([
            ("type", .string(type)), ("title", .string(title)), ("status", .number(String(status))),
        ])
        if let detail { object["detail"] = .string(detail) }
        if !errors.isEmpty {
            object["errors"] = .array(
                errors.map { .object(JSONObject([("pointer", .string($0.pointer)), ("detail", .string($0.detail))])) })
        }
        var headers = self.headers
        headers.set("content-type", "application/problem+json")
        return HTTPResponse(status: status, headers: headers, body: JSONValue.object(object).serialized())
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 409: "Conflict"
        case 410: "Gone"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "HTTP \(status)"
        }
    }
}

/// An error that knows the problem a client should see instead of a 500 (DynamoDB's "item too
/// large", for instance); the router answers with it.
public protocol ProblemConvertible: Error {
    var problem: HTTPProblem? { get }
}
