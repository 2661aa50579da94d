import JSONCoding
import Platform

/// The event is not an HTTP event this layer understands. Reported to Lambda as a function error:
/// there is no HTTP request to answer.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

extension HTTPRequest {
    /// Decodes an API Gateway HTTP API (2.0 or 1.0), REST API proxy or Function URL event.
    public init(event bytes: [UInt8]) throws(EventDecodingError) {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw EventDecodingError(description: "the event is not JSON: \(error)")
        }
        try self.init(event: value)
    }

    public init(event: JSONValue) throws(EventDecodingError) {
        guard case .object(let root) = event else {
            throw EventDecodingError(description: "the event is a JSON \(event.typeName), not an object")
        }
        if root["version"]?.stringValue == "2.0", let http = root["requestContext"]?["http"] {
            self = try Self.decodeVersion2(root, http: http)
        } else if root["httpMethod"]?.stringValue != nil {
            self = try Self.decodeVersion1(root)
        } else {
            throw EventDecodingError(
                description:
                    "not an API Gateway or Function URL event (no version 2.0 requestContext.http, no httpMethod)")
        }
        self.event = event
    }

    static func stringMap(_ value: JSONValue?) -> [(String, String)] {
        guard case .object(let object) = value else { return [] }
        return object.compactMap { member in
            switch member.value {
            case .string(let s): (member.key, s)
            case .number(let n): (member.key, n)
            case .bool(let b): (member.key, String(b))
            default: nil
            }
        }
    }

    static func body(_ root: JSONObject) throws(EventDecodingError) -> [UInt8] {
        guard let text = root["body"]?.stringValue else { return [] }
        if root["isBase64Encoded"]?.boolValue == true {
            guard let bytes = Base64.decode(text) else {
                throw EventDecodingError(description: "isBase64Encoded is true but the body is not base64")
            }
            return bytes
        }
        return Array(text.utf8)
    }

    static func decodeVersion2(_ root: JSONObject, http: JSONValue) throws(EventDecodingError) -> HTTPRequest {
        let context = root["requestContext"]
        guard let method = http["method"]?.stringValue else {
            throw EventDecodingError(description: "requestContext.http.method is missing")
        }
        let rawPath = root["rawPath"]?.stringValue ?? http["path"]?.stringValue ?? "/"
        var headers = HTTPHeaders()
        for (name, value) in stringMap(root["headers"]) { headers.add(name.lowercased(), value) }
        let isFunctionURL = context?["domainName"]?.stringValue?.containsText(".lambda-url.") ?? false
        var request = HTTPRequest(
            source: isFunctionURL ? .functionURL : .httpAPI, method: method, rawPath: rawPath,
            rawQueryString: root["rawQueryString"]?.stringValue ?? "", headers: headers,
            cookies: root["cookies"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            pathParameters: Dictionary(stringMap(root["pathParameters"])) { $1 },
            body: try body(root))
        if request.cookies.isEmpty, let cookieHeader = headers["cookie"] {
            request.cookies = cookieHeader.split(separator: ";").map { String($0.drop { $0 == " " }) }
        }
        if let key = root["routeKey"]?.stringValue, key != "$default" { request.routeKey = key }
        request.stageVariables = Dictionary(stringMap(root["stageVariables"])) { $1 }
        request.requestID = context?["requestId"]?.stringValue
        request.stage = context?["stage"]?.stringValue
        request.sourceIP = http["sourceIp"]?.stringValue
        if let authorizer = context?["authorizer"]?.objectValue {
            if let jwt = authorizer["jwt"]?.objectValue {
                request.authorizer = .jwt(
                    claims: jwt["claims"]?.objectValue ?? JSONObject(),
                    scopes: jwt["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            } else if let lambda = authorizer["lambda"]?.objectValue {
                request.authorizer = .lambda(lambda)
            } else if let iam = authorizer["iam"]?.objectValue {
                request.authorizer = .iam(iam)
            }
        }
        return request
    }

    static func decodeVersion1(_ root: JSONObject) throws(EventDecodingError) -> HTTPRequest {
        let context = root["requestContext"]
        let method = root["httpMethod"]!.stringValue!
        // Header maps: multiValueHeaders holds every value in order; headers only the last.
        var headers = HTTPHeaders()
        if case .object(let multi) = root["multiValueHeaders"] {
            for (name, values) in multi {
                for value in values.arrayValue ?? [] {
                    if let s = value.stringValue { headers.add(name.lowercased(), s) }
                }
            }
        } else {
            for (name, value) in stringMap(root["headers"]) { headers.add(name.lowercased(), value) }
        }
        // REST events carry the decoded query only; rebuild the raw string from the multi-value map.
        var queryPairs: [(String, String)] = []
        if case .object(let multi) = root["multiValueQueryStringParameters"] {
            for (name, values) in multi {
                for value in values.arrayValue ?? [] { if let s = value.stringValue { queryPairs.append((name, s)) } }
            }
        } else {
            queryPairs = stringMap(root["queryStringParameters"])
        }
        let rawQuery = queryPairs.map { "\(PercentEncoding.encode($0.0))=\(PercentEncoding.encode($0.1))" }
            .joined(separator: "&")
        // `path` includes the stage or custom-domain base path; `requestContext.path` likewise. Use
        // the resource path when the route is known, else the event's path.
        let path = root["path"]?.stringValue ?? context?["path"]?.stringValue ?? "/"
        var request = HTTPRequest(
            source: .restAPI, method: method, rawPath: path, rawQueryString: rawQuery, headers: headers,
            pathParameters: Dictionary(stringMap(root["pathParameters"])) { $1 }, body: try body(root))
        request.query = QueryParameters(queryPairs.map { (name: $0.0, value: $0.1) })
        if let cookieHeader = headers["cookie"] {
            request.cookies = cookieHeader.split(separator: ";").map { String($0.drop { $0 == " " }) }
        }
        if let resource = root["resource"]?.stringValue, !resource.isEmpty, resource != "$default" {
            request.routeKey = "\(method) \(resource)"
        }
        request.stageVariables = Dictionary(stringMap(root["stageVariables"])) { $1 }
        request.requestID = context?["requestId"]?.stringValue
        request.stage = context?["stage"]?.stringValue
        request.sourceIP = context?["identity"]?["sourceIp"]?.stringValue
        if case .object(let authorizer) = context?["authorizer"], !authorizer.isEmpty {
            request.authorizer = .rest(principalID: authorizer["principalId"]?.stringValue, context: authorizer)
        }
        return request
    }

    /// The event shape, read without decoding the whole event (for the deadline answer).
    public static func source(ofEvent bytes: [UInt8]) -> EventSource {
        guard let event = try? JSONValue.parse(bytes), event["version"]?.stringValue == "2.0" else { return .restAPI }
        return event["requestContext"]?["domainName"]?.stringValue?.containsText(".lambda-url.") == true
            ? .functionURL : .httpAPI
    }
}
