import HTTPAPI
import JSONCoding
import LambdaRuntime
import Logging
import LoopbackHTTP
import Platform
import Synchronization

/// What a REST API does differently from an HTTP API, locally: its own error bodies, payload 1.0
/// proxy responses read strictly, and JWT routes behind a Lambda REQUEST authorizer, invoked with
/// the event API Gateway sends it and its answer cached per identity source for the TTL.
/// Sources: "Gateway responses in API Gateway" (MISSING_AUTHENTICATION_TOKEN 403,
/// REQUEST_TOO_LARGE 413, INTEGRATION_TIMEOUT 504, AUTHORIZER_FAILURE 500, UNAUTHORIZED 401,
/// ACCESS_DENIED 403) and "Input to / Output from an API Gateway Lambda authorizer":
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
public struct RESTStage: Sendable {
    /// The authorizer function for routes declaring "authorization": "JWT".
    public var authorizer: (any LambdaHandler)?
    /// How long an authorizer answer is reused for the same token and route (0: never).
    public var authorizerTTLSeconds: Int
    let cache = AuthorizerCache()

    public init(authorizer: (any LambdaHandler)?, authorizerTTLSeconds: Int = 300) {
        self.authorizer = authorizer
        self.authorizerTTLSeconds = authorizerTTLSeconds
    }

    // REST's own answers.
    static let missingAuthenticationToken = error(
        403, "Missing Authentication Token", "MissingAuthenticationTokenException")
    static let requestTooLong = error(413, "Request Too Long", nil)
    static let timedOut = error(504, "Endpoint request timed out", nil)
    static let internalError = error(502, "Internal server error", "InternalServerErrorException")
    public static let unauthorized = error(401, "Unauthorized", "UnauthorizedException")
    static let authorizerFailed = ServerResponse(
        status: 500,
        headers: [("content-type", "application/json"), ("x-amzn-ErrorType", "AuthorizerConfigurationException")],
        body: Array(#"{"message":null}"#.utf8))
    // ACCESS_DENIED writes "Message", capitalised, unlike the other responses.
    public static let explicitlyDenied = denied("User is not authorized to access this resource with an explicit deny")
    static let notAllowed = denied("User is not authorized to access this resource")

    static func error(_ status: Int, _ message: String, _ type: String?) -> ServerResponse {
        var response = GatewayEvent.message(status, message)
        if let type { response.headers.append(("x-amzn-ErrorType", type)) }
        return response
    }

    static func denied(_ message: String) -> ServerResponse {
        ServerResponse(
            status: 403,
            headers: [("content-type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException")],
            body: JSONValue.object(["Message": .string(message)]).serialized())
    }

    /// The authorizer's verdict on a JWT route: the `requestContext.authorizer` to pass on, or the
    /// response API Gateway gives instead.
    func authorize(
        _ request: ServerRequest, routeKey: String, pathParameters: [String: String], requestID: String,
        stage: GatewayEvent.Stage, logger: Logger
    ) async -> Result<JSONObject, LocalGateway.Refusal> {
        // The identity source (the Authorization header) must be there, or API Gateway answers 401
        // without calling the function.
        guard let authorization = request.header("authorization"), !authorization.isEmpty else {
            return .failure(.init(response: Self.unauthorized))
        }
        guard let authorizer else { return .failure(.init(response: Self.authorizerFailed)) }
        let method = String(routeKey.split(separator: " ")[0])
        let resource = String(routeKey.split(separator: " ")[1])
        let methodARN =
            "arn:aws:execute-api:local:\(stage.accountID):\(stage.apiID)/\(stage.stage)/\(request.method)\(request.path)"
        // The cache key: the identity sources modules/infrastructure declares (token, method, resource).
        let key = "\(authorization)\n\(method)\n\(resource)"
        let now = WallClock.nowMilliseconds()
        var answer = cache.answer(for: key, now: now)
        if answer == nil {
            var event =
                GatewayEvent.makeV1(
                    request, routeKey: routeKey, pathParameters: pathParameters, requestID: requestID, stage: stage
                ).objectValue ?? [:]
            for field in ["version", "body", "isBase64Encoded"] { event[field] = nil }
            event["type"] = "REQUEST"
            event["methodArn"] = .string(methodARN)
            let context = LambdaContext(
                requestID: requestID, deadlineMilliseconds: now + 10_000,
                invokedFunctionARN: "arn:aws:lambda:local:\(stage.accountID):function:authorizer", logger: logger)
            do {
                let bytes = try await LambdaContext.$current.withValue(context) {
                    try await authorizer.handle(JSONValue.object(event).serialized(), context: context)
                }
                answer = try JSONValue.parse(bytes)
            } catch {
                // Only the exact error "Unauthorized" is a 401; any other failure is the authorizer's.
                if "\(error)" == "Unauthorized" { return .failure(.init(response: Self.unauthorized)) }
                logger.error("the authorizer failed on \(routeKey): \(error)")
                return .failure(.init(response: Self.authorizerFailed))
            }
            if authorizerTTLSeconds > 0, let answer {
                cache.store(answer, for: key, until: now + Int64(authorizerTTLSeconds) * 1000)
            }
        }
        guard let answer, let principal = answer["principalId"]?.stringValue,
            let statements = answer["policyDocument"]?["Statement"]?.arrayValue
        else { return .failure(.init(response: Self.authorizerFailed)) }
        let matching = statements.filter { statement in
            Self.covers(statement["Action"], "execute-api:Invoke")
                && Self.covers(statement["Resource"], methodARN)
        }
        var context: JSONObject = ["principalId": .string(principal)]
        // Context values reach the integration as strings.
        for (name, value) in answer["context"]?.objectValue ?? [:] {
            switch value {
            case .string: context[name] = value
            case .number(let n): context[name] = .string(n)
            case .bool(let b): context[name] = .string(String(b))
            default: continue
            }
        }
        if matching.contains(where: { $0["Effect"]?.stringValue == "Deny" }) {
            return .failure(.init(response: Self.explicitlyDenied, context: .object(["rest": .object(context)])))
        }
        guard matching.contains(where: { $0["Effect"]?.stringValue == "Allow" }) else {
            return .failure(.init(response: Self.notAllowed, context: .object(["rest": .object(context)])))
        }
        context["integrationLatency"] = .number(String(WallClock.nowMilliseconds() - now))
        return .success(context)
    }

    /// Whether a policy's Action or Resource (a string or a list) matches `value`, with IAM's `*`
    /// and `?` wildcards.
    static func covers(_ patterns: JSONValue?, _ value: String) -> Bool {
        let list = patterns?.arrayValue?.compactMap(\.stringValue) ?? patterns?.stringValue.map { [$0] } ?? []
        return list.contains { glob(Array($0.utf8), Array(value.utf8)) }
    }

    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0
        var t = 0
        var star: Int?
        var resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if let s = star {
                p = s + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// A REST proxy integration's answer, read as REST reads it: an object with an integer
    /// `statusCode`, a string (or null) `body`, string `headers`, list `multiValueHeaders` merged
    /// with them, and no other keys; anything else is a 502.
    static func response(fromLambda bytes: [UInt8]) -> ServerResponse {
        let allowed: Set<String> = [
            "statusCode", "body", "headers", "multiValueHeaders", "isBase64Encoded", "base64Encoded", "cookies",
        ]
        guard case .object(let object)? = try? JSONValue.parse(bytes),
            case .number(let statusText)? = object["statusCode"], let code = Int(statusText), code > 0,
            object.allSatisfy({ allowed.contains($0.key) }),
            object["body"].map({ $0.stringValue != nil || $0 == .null }) ?? true,
            object["headers"].map({ $0.objectValue != nil || $0 == .null }) ?? true,
            object["multiValueHeaders"].map({ $0.objectValue != nil || $0 == .null }) ?? true
        else { return internalError }
        var headers: [(name: String, value: String)] = []
        var listed: Set<String> = []
        for (name, values) in object["multiValueHeaders"]?.objectValue ?? [:] {
            for value in values.arrayValue ?? [] {
                if let s = value.stringValue {
                    headers.append((name, s))
                    listed.insert("\(name.lowercased())\n\(s)")
                }
            }
        }
        for (name, value) in object["headers"]?.objectValue ?? [:] {
            if let s = value.stringValue, !listed.contains("\(name.lowercased())\n\(s)") { headers.append((name, s)) }
        }
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
            headers.append(("content-type", "application/json"))
        }
        let text = object["body"]?.stringValue ?? ""
        let base64 = object["isBase64Encoded"]?.boolValue == true || object["base64Encoded"]?.boolValue == true
        let body = base64 ? (Base64.decode(text) ?? []) : Array(text.utf8)
        return ServerResponse(status: code, headers: headers, body: body)
    }
}

/// Authorizer answers by cache key until their expiry.
final class AuthorizerCache: Sendable {
    private let entries = Mutex<[String: (answer: JSONValue, expires: Int64)]>([:])

    func answer(for key: String, now: Int64) -> JSONValue? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.expires <= now {
                entries[key] = nil
                return nil
            }
            return entry.answer
        }
    }

    func store(_ answer: JSONValue, for key: String, until expires: Int64) {
        entries.withLock { entries in
            if entries.count >= 4096 { entries.removeAll() }
            entries[key] = (answer, expires)
        }
    }
}
