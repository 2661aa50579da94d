import JSONCoding

/// An HTTP response, encoded back into the shape of the event that asked for it.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    /// `Set-Cookie` values, one per cookie.
    public var cookies: [String]
    public var body: [UInt8]

    public init(status: Int = 200, headers: HTTPHeaders = [:], cookies: [String] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.cookies = cookies
        self.body = body
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
            "application/graphql", "application/yaml", "application/x-yaml", "image/svg+xml",
        ].contains(type)
    }

    /// The Lambda response document for this event source.
    public func encoded(for source: EventSource) -> [UInt8] {
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
        if Self.isTextual(contentType: headers["content-type"]) {
            object["body"] = .string(bodyText)
            object["isBase64Encoded"] = .bool(false)
        } else {
            object["body"] = .string(Base64.encode(body))
            object["isBase64Encoded"] = .bool(true)
        }
        return JSONValue.object(object).serialized()
    }
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
