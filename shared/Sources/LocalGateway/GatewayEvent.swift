import HTTPAPI
import JSONCoding
import LambdaRuntime
import LambdaTesting

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
    public static func message(_ status: Int, _ text: String) -> ServerResponse {
        ServerResponse(
            status: status, headers: [("content-type", "application/json")],
            body: JSONValue.object(["message": .string(text)]).serialized())
    }
}
