import HTTPAPI
import JSONCoding
import LoopbackHTTP
import Platform

/// Builds the API Gateway HTTP API payload 2.0 event for a request, field for field as AWS does.
public enum GatewayEvent {
    public struct Stage: Sendable {
        public var apiID = "local"
        public var stage = "$default"
        public var accountID = "000000000000"
        public var domainName = "127.0.0.1"
        public init() {}
    }

    public static func make(
        _ request: ServerRequest, routeKey: String, pathParameters: [String: String], requestID: String, stage: Stage,
        authorizer: JSONValue? = nil, nowMilliseconds: Int64 = WallClock.nowMilliseconds()
    ) -> JSONValue {
        var headers = JSONObject()
        var cookies: [JSONValue] = []
        for (name, value) in request.headers {
            let key = name.lowercased()
            if key == "cookie" {
                cookies += value.split(separator: ";").map { .string(String($0.trimmingSpaces)) }
                continue
            }
            // Repeated headers are comma-joined into one value.
            if case .string(let existing) = headers[key] {
                headers[key] = .string(existing + "," + value)
            } else {
                headers[key] = .string(value)
            }
        }
        let rawQuery = request.query
        var query = JSONObject()
        for (name, value) in QueryParameters(rawQueryString: rawQuery) {
            if case .string(let existing) = query[name] {
                query[name] = .string(existing + "," + value)
            } else {
                query[name] = .string(value)
            }
        }
        let userAgent = headers["user-agent"]?.stringValue ?? ""
        var event: JSONObject = [
            "version": "2.0", "routeKey": .string(routeKey), "rawPath": .string(request.path),
            "rawQueryString": .string(rawQuery),
        ]
        if !cookies.isEmpty { event["cookies"] = .array(cookies) }
        event["headers"] = .object(headers)
        if !query.isEmpty { event["queryStringParameters"] = .object(query) }
        if !pathParameters.isEmpty {
            event["pathParameters"] = .object(
                JSONObject(pathParameters.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        event["requestContext"] = [
            "accountId": .string(stage.accountID), "apiId": .string(stage.apiID),
            "domainName": .string(stage.domainName),
            "domainPrefix": .string(String(stage.domainName.split(separator: ".").first ?? "")),
            "http": [
                "method": .string(request.method), "path": .string(request.path), "protocol": .string(request.version),
                "sourceIp": .string(request.remoteAddress ?? "127.0.0.1"), "userAgent": .string(userAgent),
            ],
            "requestId": .string(requestID), "routeKey": .string(routeKey), "stage": .string(stage.stage),
            "time": .string(WallClock.commonLogFormat(milliseconds: nowMilliseconds)),
            "timeEpoch": .number(String(nowMilliseconds)),
        ]
        if let authorizer, case .object(var context) = event["requestContext"] {
            context["authorizer"] = authorizer
            event["requestContext"] = .object(context)
        }
        if !request.body.isEmpty {
            let textual = HTTPResponse.isTextual(contentType: headers["content-type"]?.stringValue)
            event["body"] = .string(
                textual ? String(decoding: request.body, as: UTF8.self) : Base64.encode(request.body))
            event["isBase64Encoded"] = .bool(!textual)
        } else {
            event["isBase64Encoded"] = false
        }
        return .object(event)
    }

    /// The payload 1.0 event for the same request, as a REST API's Lambda proxy integration (or an
    /// HTTP API integration set to 1.0) sends it: header names as sent, multi-value maps, `resource`
    /// with the route's path template, and the authorizer's claims.
    public static func makeV1(
        _ request: ServerRequest, routeKey: String, pathParameters: [String: String], requestID: String, stage: Stage,
        authorizer: JSONValue? = nil, nowMilliseconds: Int64 = WallClock.nowMilliseconds()
    ) -> JSONValue {
        var headers = JSONObject()
        var multiHeaders = JSONObject()
        for (name, value) in request.headers {
            headers[name] = .string(value)
            multiHeaders[name] = .array((multiHeaders[name]?.arrayValue ?? []) + [.string(value)])
        }
        var query = JSONObject()
        var multiQuery = JSONObject()
        for (name, value) in QueryParameters(rawQueryString: request.query) {
            query[name] = .string(value)
            multiQuery[name] = .array((multiQuery[name]?.arrayValue ?? []) + [.string(value)])
        }
        let resource = String(routeKey.split(separator: " ", maxSplits: 1).last ?? "/")
        let userAgent = request.header("user-agent") ?? ""
        var context: JSONObject = [
            "accountId": .string(stage.accountID), "apiId": .string(stage.apiID),
            "domainName": .string(stage.domainName),
            "domainPrefix": .string(String(stage.domainName.split(separator: ".").first ?? "")),
            "extendedRequestId": .string(requestID), "httpMethod": .string(request.method),
            "identity": ["sourceIp": .string(request.remoteAddress ?? "127.0.0.1"), "userAgent": .string(userAgent)],
            "path": .string(request.path), "protocol": .string(request.version), "requestId": .string(requestID),
            "requestTime": .string(WallClock.commonLogFormat(milliseconds: nowMilliseconds)),
            "requestTimeEpoch": .number(String(nowMilliseconds)), "resourcePath": .string(resource),
            "stage": .string(stage.stage),
        ]
        if let jwt = authorizer?["jwt"] {
            context["authorizer"] = ["claims": jwt["claims"] ?? .null, "scopes": jwt["scopes"] ?? .null]
        } else if let lambda = authorizer?["rest"] {
            // A REST Lambda authorizer's principalId and context, as REST passes them on.
            context["authorizer"] = lambda
        }
        var event: JSONObject = [
            "version": "1.0", "resource": .string(resource), "path": .string(request.path),
            "httpMethod": .string(request.method), "headers": .object(headers),
            "multiValueHeaders": .object(multiHeaders),
            "queryStringParameters": query.isEmpty ? .null : .object(query),
            "multiValueQueryStringParameters": multiQuery.isEmpty ? .null : .object(multiQuery),
            "pathParameters": pathParameters.isEmpty
                ? .null
                : .object(JSONObject(pathParameters.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            "stageVariables": .null, "requestContext": .object(context),
        ]
        if request.body.isEmpty {
            event["body"] = .null
            event["isBase64Encoded"] = false
        } else {
            let textual = HTTPResponse.isTextual(contentType: request.header("content-type"))
            event["body"] = .string(
                textual ? String(decoding: request.body, as: UTF8.self) : Base64.encode(request.body))
            event["isBase64Encoded"] = .bool(!textual)
        }
        return .object(event)
    }

    /// `requestContext.authorizer` for verified claims, as API Gateway writes it: claim values as
    /// strings (arrays as `[a b]`), the token's scopes as a list.
    public static func jwtContext(_ claims: JSONObject) -> JSONValue {
        var strings = JSONObject()
        for (name, value) in claims {
            switch value {
            case .string: strings[name] = value
            case .array(let items):
                strings[name] = .string(
                    "[" + items.map { $0.stringValue ?? $0.jsonString }.joined(separator: " ") + "]")
            default: strings[name] = .string(value.jsonString)
            }
        }
        let scopes = claims["scope"]?.stringValue?.split(separator: " ").map { JSONValue.string(String($0)) }
        return ["jwt": ["claims": .object(strings), "scopes": scopes.map(JSONValue.array) ?? .null]]
    }

    /// Maps a function's answer to HTTP as API Gateway (payload 2.0) does: a document with
    /// `statusCode` is a structured response; anything else is a 200 JSON body as-is; a
    /// `statusCode` document of the wrong shape is a 500.
    public static func response(fromLambda bytes: [UInt8]) -> ServerResponse {
        guard case .object(let object)? = try? JSONValue.parse(bytes), let status = object["statusCode"] else {
            return ServerResponse(status: 200, headers: [("content-type", "application/json")], body: bytes)
        }
        guard case .number(let statusText) = status, let code = Int(statusText), code > 0,
            object["headers"].map({ $0.objectValue != nil }) ?? true,
            object["body"].map({ $0.stringValue != nil }) ?? true
        else { return message(500, "Internal Server Error") }
        var headers: [(name: String, value: String)] = []
        for (name, value) in object["headers"]?.objectValue ?? [:] {
            if let s = value.stringValue { headers.append((name, s)) }
        }
        for cookie in object["cookies"]?.arrayValue ?? [] {
            if let s = cookie.stringValue { headers.append(("set-cookie", s)) }
        }
        let text = object["body"]?.stringValue ?? ""
        let body = object["isBase64Encoded"]?.boolValue == true ? (Base64.decode(text) ?? []) : Array(text.utf8)
        return ServerResponse(status: code, headers: headers, body: body)
    }

    /// API Gateway's own answers: `{"message":"Not Found"}` and friends.
    /// What an HTTP API's JWT authorizer answers without a valid token.
    public static var unauthorized: ServerResponse {
        ServerResponse(
            status: 401, headers: [("content-type", "application/json"), ("www-authenticate", "Bearer")],
            body: Array(#"{"message":"Unauthorized"}"#.utf8))
    }

    /// What an HTTP API's JWT authorizer answers a valid token without one of the route's scopes.
    public static var forbidden: ServerResponse { message(403, "Forbidden") }

    public static func message(_ status: Int, _ text: String) -> ServerResponse {
        ServerResponse(
            status: status, headers: [("content-type", "application/json")],
            body: JSONValue.object(["message": .string(text)]).serialized())
    }
}

extension ServerResponse {
    /// The answer as a Lambda proxy response (what a contract case expects).
    public var lambdaResponse: [UInt8] {
        var headers = JSONObject()
        for (name, value) in self.headers { headers[name.lowercased()] = .string(value) }
        let response: JSONObject = [
            "statusCode": .number(String(status)), "headers": .object(headers),
            "body": .string(String(decoding: body, as: UTF8.self)),
        ]
        return JSONValue.object(response).serialized()
    }
}
