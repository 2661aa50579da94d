import JSONCoding
import Synchronization

/// An HTTP response, encoded back into the shape of the event that asked for it.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    /// `Set-Cookie` values, one per cookie.
    public var cookies: [String]
    public var body: [UInt8]
    /// A body produced while it is sent (`streamed`), instead of `body`.
    public var stream: HTTPBodyStream?

    public init(status: Int = 200, headers: HTTPHeaders = [:], cookies: [String] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.cookies = cookies
        self.body = body
    }

    /// A response whose body `write` produces chunk by chunk after the head is sent: streamed to
    /// the client where the route's integration streams, gathered into `body` (at most
    /// `maxBufferedBytes`) where it does not.
    public static func streamed(
        status: Int = 200, headers: HTTPHeaders = [:], contentType: String,
        _ write: @escaping @Sendable (HTTPBodySink) async throws -> Void
    ) -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: headers)
        response.headers.set("content-type", contentType)
        response.stream = HTTPBodyStream(write)
        return response
    }

    /// The most a gathered stream may hold: what a buffered Lambda response can carry once
    /// encoded (base64 grows a body by a third; the head needs the rest).
    public static let maxBufferedBytes = 4 * 1024 * 1024

    /// The same response with a streamed body gathered into `body`. A stream larger than
    /// `maxBufferedBytes` is a 500 problem saying so (the client gets no partial body).
    public func gathered() async throws -> HTTPResponse {
        guard let stream else { return self }
        let buffer = GatheredBody()
        do {
            try await stream.write(HTTPBodySink { try buffer.append($0) })
        } catch is GatheredBody.TooLarge {
            return HTTPProblem(
                status: 500,
                detail:
                    "the response is larger than a buffered response carries (\(Self.maxBufferedBytes / 1024 / 1024) MB); this route must be served by an integration that streams"
            ).response
        }
        var whole = self
        whole.stream = nil
        whole.body = buffer.bytes
        return whole
    }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.headers == rhs.headers && lhs.cookies == rhs.cookies && lhs.body == rhs.body
            && (lhs.stream == nil) == (rhs.stream == nil)
    }

    public static func json<T: Encodable>(_ value: T, status: Int = 200, headers: HTTPHeaders = [:]) throws
        -> HTTPResponse
    {
        var response = HTTPResponse(status: status, headers: headers, body: try JSON.encode(value))
        response.headers.set("content-type", "application/json")
        return response
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: ["content-type": contentType], body: Array(text.utf8))
    }

    public static func noContent(headers: HTTPHeaders = [:]) -> HTTPResponse {
        HTTPResponse(status: 204, headers: headers)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Textual media types travel as text; everything else is base64 so bytes survive JSON.
    public static func isTextual(contentType: String?) -> Bool {
        guard let contentType else { return true }
        let type = contentType.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() } ?? ""
        if type.isEmpty || type.hasPrefix("text/") { return true }
        if type.hasSuffix("+json") || type.hasSuffix("+xml") { return true }
        return [
            "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded",
            "application/graphql", "application/yaml", "application/x-yaml", "image/svg+xml", "application/x-ndjson",
        ].contains(type)
    }

    /// The Lambda response document for this event source.
    public func encoded(for source: EventSource) -> [UInt8] {
        var object = head(for: source)
        if Self.isTextual(contentType: headers["content-type"]) {
            object["body"] = .string(bodyText)
            object["isBase64Encoded"] = .bool(false)
        } else {
            object["body"] = .string(Base64.encode(body))
            object["isBase64Encoded"] = .bool(true)
        }
        return JSONValue.object(object).serialized()
    }

    /// The content type of a streamed HTTP answer: a JSON prelude, eight NUL bytes, the body
    /// (RUNTIME_API.md, "Response streaming"; API Gateway Developer Guide, "Lambda proxy
    /// integration format for response streaming").
    public static let streamingContentType = "application/vnd.awslambda.http-integration-response"

    /// The prelude of a streamed answer: the head as the event source takes it, then the delimiter.
    public func streamingPrelude(for source: EventSource) -> [UInt8] {
        JSONValue.object(head(for: source)).serialized() + [UInt8](repeating: 0, count: 8)
    }

    /// A streamed answer (prelude, delimiter, body) read back as a response: what an invoker that
    /// reads the stream makes of it. The prelude must end within its first 16 KB, as API Gateway
    /// requires.
    public init(streamedAnswer bytes: [UInt8]) throws(StreamedAnswerError) {
        let delimiter = [UInt8](repeating: 0, count: 8)
        let window = bytes.prefix(16 * 1024 + 8)
        guard let end = window.indices.first(where: { window[$0...].starts(with: delimiter) }) else {
            throw StreamedAnswerError(description: "no prelude delimiter (8 NUL bytes) in the first 16 KB")
        }
        guard let prelude = try? JSONValue.parse(Array(bytes[..<end])), case .object(let head) = prelude,
            case .number(let code)? = head["statusCode"], let status = Int(code)
        else {
            throw StreamedAnswerError(description: "the prelude is not a JSON object with a statusCode")
        }
        var headers = HTTPHeaders()
        if case .object(let multi) = head["multiValueHeaders"] {
            for (name, values) in multi {
                for value in values.arrayValue ?? [] { if let v = value.stringValue { headers.add(name, v) } }
            }
        } else {
            for (name, value) in head["headers"]?.objectValue ?? JSONObject() {
                if let v = value.stringValue { headers.add(name, v) }
            }
        }
        self.init(
            status: status, headers: headers, cookies: head["cookies"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            body: Array(bytes[(end + 8)...]))
    }

    /// Status, headers and cookies in the event source's shape.
    func head(for source: EventSource) -> JSONObject {
        var object = JSONObject([("statusCode", .number(String(status)))])
        switch source {
        case .httpAPI, .functionURL:
            // Payload 2.0: single-valued headers (repeats comma-joined), cookies on their own.
            var single = JSONObject()
            for (name, value) in headers where name.lowercased() != "set-cookie" {
                let key = name.lowercased()
                if case .string(let existing) = single[key] {
                    single[key] = .string(existing + "," + value)
                } else {
                    single[key] = .string(value)
                }
            }
            object["headers"] = .object(single)
            let allCookies = cookies + headers.values("set-cookie")
            if !allCookies.isEmpty { object["cookies"] = .array(allCookies.map(JSONValue.string)) }
        case .restAPI:
            // Payload 1.0: every value in multiValueHeaders; Set-Cookie must not be comma-joined.
            var single = JSONObject()
            var multi = JSONObject()
            for (name, value) in headers {
                single[name] = .string(value)
                multi[name] = .array((multi[name]?.arrayValue ?? []) + [.string(value)])
            }
            if !cookies.isEmpty {
                multi["Set-Cookie"] = .array((multi["Set-Cookie"]?.arrayValue ?? []) + cookies.map(JSONValue.string))
            }
            object["headers"] = .object(single)
            object["multiValueHeaders"] = .object(multi)
        }
        return object
    }
}

public struct StreamedAnswerError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// A body written while it is sent: `write` is called once and sends the bytes through the sink.
public struct HTTPBodyStream: Sendable {
    public let write: @Sendable (HTTPBodySink) async throws -> Void

    public init(_ write: @escaping @Sendable (HTTPBodySink) async throws -> Void) { self.write = write }
}

/// Where a streamed body's chunks go (Lambda's response stream, the local gateway's client, a
/// buffer). `write` returns when the chunk is taken, so a producer is paced by its reader.
public struct HTTPBodySink: Sendable {
    let send: @Sendable ([UInt8]) async throws -> Void

    public init(_ send: @escaping @Sendable ([UInt8]) async throws -> Void) { self.send = send }

    public func write(_ bytes: [UInt8]) async throws {
        if !bytes.isEmpty { try await send(bytes) }
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }
}

/// A streamed body gathered for a buffered answer, up to `HTTPResponse.maxBufferedBytes`.
final class GatheredBody: Sendable {
    struct TooLarge: Error {}
    private let storage = Mutex<[UInt8]>([])

    func append(_ chunk: [UInt8]) throws {
        try storage.withLock { bytes throws(TooLarge) in
            guard bytes.count + chunk.count <= HTTPResponse.maxBufferedBytes else { throw TooLarge() }
            bytes += chunk
        }
    }

    var bytes: [UInt8] { storage.withLock { $0 } }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    public var trimmingSpaces: Substring {
        guard let first = firstIndex(where: { $0 != " " && $0 != "\t" }),
            let last = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return "" }
        return Substring(self[first...last])
    }
}
