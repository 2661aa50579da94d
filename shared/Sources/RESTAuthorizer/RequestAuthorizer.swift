import AWSCore
import JSONCoding
import JWT
import LambdaRuntime
import Logging
import Platform

/// The REST API's Lambda REQUEST authorizer: verifies the bearer token as API Gateway's JWT
/// authorizer does (signature against the issuer's JWKS, RS256 or ES256; `iss`, `aud`, `exp`,
/// `nbf`), checks the route's scopes, and answers with an IAM policy for the route plus the
/// token's claims as context (`requestContext.authorizer` of the service's event).
///
/// Answers, as API Gateway maps them: no or bad token → the error "Unauthorized" (401); a valid
/// token without the route's scope → a Deny policy (403); otherwise an Allow policy for the route
/// (`METHOD/path` with each `{param}` as `*`). API Gateway caches the answer per identity source
/// (the Authorization header, the method and the resource: modules/infrastructure), so a policy
/// only ever speaks for the route it was computed for.
public struct RequestAuthorizer: LambdaHandler {
    public let configuration: AuthorizerConfiguration
    let keys: JWKSKeys
    let now: @Sendable () -> Int64

    public init(
        configuration: AuthorizerConfiguration, keys: JWKSKeys,
        now: @escaping @Sendable () -> Int64 = WallClock.nowMilliseconds
    ) {
        self.configuration = configuration
        self.keys = keys
        self.now = now
    }

    /// GETs a document over HTTPS (certificates verified against the system's trust store or
    /// SSL_CERT_FILE), at most `JWKSKeys.maxBytes` of it.
    public typealias Get = @Sendable (_ url: String) async throws -> [UInt8]

    /// From the function's environment: reads the configuration, finds the JWKS (JWKS_URL, else
    /// the issuer's OpenID discovery document) and fetches it.
    public static func start(
        environment: [String: String], logger: Logger, get: @escaping Get = RequestAuthorizer.get
    ) async throws -> RequestAuthorizer {
        let configuration = try AuthorizerConfiguration(environment: environment)
        let jwksURL: String
        if let configured = configuration.jwksURL {
            jwksURL = configured
        } else {
            jwksURL = try await discoverJWKS(configuration, get: get)
        }
        let keys = try await JWKSKeys(logger: logger) { try await get(jwksURL) }
        logger.info("JWKS loaded from \(jwksURL): \(keys.current.count) signing keys")
        return RequestAuthorizer(configuration: configuration, keys: keys)
    }

    /// The `jwks_uri` of the issuer's OpenID Provider metadata, which must name the same issuer
    /// (OpenID Connect Discovery 1.0 §4.3) and an https:// URL.
    static func discoverJWKS(_ configuration: AuthorizerConfiguration, get: Get) async throws -> String {
        let url = configuration.discoveryURL
        let document = try? JSONValue.parse(try await get(url))
        guard document?["issuer"]?.stringValue == configuration.issuer else {
            throw JWTAuthorizer.KeyError(
                description:
                    "\(url) does not name the issuer \(configuration.issuer): set JWKS_URL to the issuer's JWKS")
        }
        guard let jwks = document?["jwks_uri"]?.stringValue, jwks.hasPrefix("https://") else {
            throw JWTAuthorizer.KeyError(
                description: "\(url) has no https:// jwks_uri: set JWKS_URL to the issuer's JWKS")
        }
        return jwks
    }

    @Sendable public static func get(_ url: String) async throws -> [UInt8] {
        let (endpoint, path) = split(url: url)
        let transport = try HTTPTransport(endpoint: endpoint, maxConnections: 1, maxResponseBytes: JWKSKeys.maxBytes)
        // Fetched rarely (init, then a key rotation): no connection is kept.
        let response: TransportResponse
        do {
            response = try await transport.send(
                method: "GET", path: path, headers: [("accept", "application/json")], body: [], timeout: .seconds(5))
            await transport.shutdown()
        } catch {
            await transport.shutdown()
            throw error
        }
        guard response.status == 200 else {
            throw JWTAuthorizer.KeyError(description: "GET \(url) answered \(response.status), not 200")
        }
        return response.body
    }

    /// `https://host:port/a/b?c` → (`https://host:port`, `/a/b?c`).
    static func split(url: String) -> (endpoint: String, path: String) {
        let afterScheme = url.utf8Offset(of: "://").map { $0 + 3 } ?? 0
        let rest = url.utf8.dropFirst(afterScheme)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return (url, "/") }
        return (String(url[..<slash]), String(url[slash...]))
    }

    /// The error API Gateway turns into 401 Unauthorized: its message must be exactly this.
    public struct Unauthorized: Error, CustomStringConvertible {
        public var description: String { "Unauthorized" }
    }

    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let request: JSONValue
        do { request = try JSONValue.parse(event) } catch {
            context.logger.error("the authorizer's event is not JSON: \(error)")
            throw Unauthorized()
        }
        switch await decide(request, logger: context.logger) {
        case .refused(let reason):
            context.logger.info("refused: \(reason)")
            throw Unauthorized()
        case .answer(let answer):
            return answer.serialized()
        }
    }

    public enum Decision: Sendable, Equatable {
        /// No valid token: 401.
        case refused(String)
        /// A policy (Allow or Deny) for API Gateway.
        case answer(JSONValue)
    }

    public func decide(_ request: JSONValue, logger: Logger? = nil) async -> Decision {
        guard let methodARN = request["methodArn"]?.stringValue, let method = request["httpMethod"]?.stringValue,
            let resource = request["resource"]?.stringValue
        else { return .refused("not a REQUEST authorizer event (methodArn, httpMethod, resource)") }
        let authorization = Self.header("authorization", in: request)
        let routeKey = "\(method) \(resource)"
        let scopes = configuration.routeScopes[routeKey] ?? configuration.routeScopes["ANY \(resource)"]
        let verifier = JWTAuthorizer(
            issuer: configuration.issuer, audiences: configuration.audiences,
            keys: await keys.keys(for: JWTAuthorizer.keyID(of: authorization), logger: logger))
        switch verifier.authorize(authorization, scopes: scopes ?? [], now: now()) {
        case .unauthorized(let reason):
            return .refused(reason)
        case .forbidden(let claims):
            guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else { return .refused("no sub claim") }
            return .answer(
                Self.policy(
                    principal: subject, effect: "Deny", resource: Self.routeARN(methodARN, routeKey), claims: claims))
        case .authorized(let claims):
            guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else { return .refused("no sub claim") }
            // A route this function was not told about is not one it may open (fail closed).
            let effect = scopes == nil ? "Deny" : "Allow"
            if scopes == nil { logger?.warning("\(routeKey) is not in ROUTE_SCOPES: denied") }
            return .answer(
                Self.policy(
                    principal: subject, effect: effect, resource: Self.routeARN(methodARN, routeKey), claims: claims))
        }
    }

    static func header(_ name: String, in request: JSONValue) -> String? {
        guard case .object(let headers)? = request["headers"] else { return nil }
        return headers.first { $0.key.lowercased() == name }?.value.stringValue
    }

    /// The execute-api ARN of the route: the method ARN's API and stage, then the route's method
    /// (`*` for ANY) and its path with every `{param}` and `{proxy+}` segment as `*`.
    static func routeARN(_ methodARN: String, _ routeKey: String) -> String {
        let parts = methodARN.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        let apiAndStage = parts.prefix(2).joined(separator: "/")
        let space = routeKey.firstIndex(of: " ")!
        let method = String(routeKey[..<space])
        let path = routeKey[routeKey.index(after: space)...].split(separator: "/").map {
            $0.hasPrefix("{") ? "*" : String($0)
        }
        return "\(apiAndStage)/\(method == "ANY" ? "*" : method)/\(path.joined(separator: "/"))"
    }

    /// The answer API Gateway expects: principal, policy, and the claims API Gateway can carry in
    /// `context` (strings, numbers, booleans; lists of strings joined by spaces). `scope` holds
    /// every granted scope (`scope` and `scp`), as ServiceKit's Caller reads it.
    static func policy(principal: String, effect: String, resource: String, claims: JSONObject) -> JSONValue {
        var context: JSONObject = [:]
        for (name, value) in claims {
            switch value {
            case .string, .number, .bool: context[name] = value
            case .array(let list) where list.allSatisfy({ $0.stringValue != nil }):
                context[name] = .string(list.compactMap(\.stringValue).joined(separator: " "))
            default: continue
            }
        }
        let granted = JWTAuthorizer.grantedScopes(claims)
        if !granted.isEmpty { context["scope"] = .string(granted.joined(separator: " ")) }
        return [
            "principalId": .string(principal),
            "policyDocument": [
                "Version": "2012-10-17",
                "Statement": [
                    ["Action": "execute-api:Invoke", "Effect": .string(effect), "Resource": .string(resource)]
                ],
            ],
            "context": .object(context),
        ]
    }
}
