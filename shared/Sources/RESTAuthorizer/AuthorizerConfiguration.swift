import JSONCoding

/// What the authorizer verifies, from the function's environment (modules/infrastructure sets it
/// from the environment's `jwt_authorizer` and every service.json):
/// - `JWT_ISSUER`: the `iss` tokens must carry (an https:// URL);
/// - `JWT_AUDIENCE`: accepted audiences, comma-separated (`aud`, or `client_id` as API Gateway's JWT
///   authorizer accepts);
/// - `JWKS_URL`: the issuer's signing keys, https only; when absent, the `jwks_uri` the issuer
///   publishes through OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`), as
///   Okta, Entra ID, Auth0, Google and Cognito do;
/// - `ROUTE_SCOPES`: a JSON object from route key (`GET /users/{id}`) to the scopes of which any one
///   grants the route (an empty list: any valid token).
public struct AuthorizerConfiguration: Sendable, Equatable {
    public var issuer: String
    public var audiences: [String]
    /// nil: discovered from the issuer.
    public var jwksURL: String?
    public var routeScopes: [String: [String]]

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public init(issuer: String, audiences: [String], jwksURL: String? = nil, routeScopes: [String: [String]]) {
        self.issuer = issuer
        self.audiences = audiences
        self.jwksURL = jwksURL
        self.routeScopes = routeScopes
    }

    public init(environment: [String: String]) throws(Problem) {
        guard let issuer = environment["JWT_ISSUER"], issuer.hasPrefix("https://") else {
            throw Problem(description: "JWT_ISSUER must be the token issuer's https:// URL")
        }
        let audiences = (environment["JWT_AUDIENCE"] ?? "").split(separator: ",").map {
            String($0.filter { $0 != " " })
        }.filter { !$0.isEmpty }
        guard !audiences.isEmpty else {
            throw Problem(description: "JWT_AUDIENCE must name at least one accepted audience (comma-separated)")
        }
        let jwksURL = environment["JWKS_URL"].flatMap { $0.isEmpty ? nil : $0 }
        guard jwksURL?.hasPrefix("https://") ?? true else {
            throw Problem(description: "JWKS_URL must be an https:// URL: signing keys are never fetched in the clear")
        }
        guard let text = environment["ROUTE_SCOPES"], case .object(let routes)? = try? JSONValue.parse(text),
            let scopes = Self.scopes(routes)
        else {
            throw Problem(
                description:
                    "ROUTE_SCOPES must be a JSON object from route key to a list of scopes, e.g. {\"GET /users/{id}\":[\"users.read\"]}"
            )
        }
        self.init(issuer: issuer, audiences: audiences, jwksURL: jwksURL, routeScopes: scopes)
    }

    static func scopes(_ routes: JSONObject) -> [String: [String]]? {
        var result: [String: [String]] = [:]
        for (key, value) in routes {
            guard let list = value.arrayValue else { return nil }
            let scopes = list.compactMap(\.stringValue)
            guard scopes.count == list.count else { return nil }
            result[key] = scopes
        }
        return result
    }

    /// Where an issuer publishes its OpenID Provider metadata (OpenID Connect Discovery 1.0 §4).
    public var discoveryURL: String {
        (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
    }
}
