import Foundation
import JSONCoding
import JWT
import Testing

/// The local JWT authorizer against tokens an identity provider signs (RS256, keys from a JWKS)
/// and the development key's HS256 tokens, with API Gateway's claim checks.
@Suite struct JWTAuthorizerTests {
    let fixture: JSONValue
    let authorizer: JWTAuthorizer
    let now: Int64 = 1_795_400_000_000

    init() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/rs256.json"
        ).path
        fixture = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        authorizer = JWTAuthorizer(
            issuer: "https://auth.staging.example.com/", audiences: ["swiftapi-staging"],
            keys: try JWTAuthorizer.keys(jwks: fixture["jwks"]!))
    }

    func check(_ token: String, scopes: [String] = ["items.read"]) -> JWTAuthorizer.Outcome {
        authorizer.authorize("Bearer \(fixture["tokens"]![token]!.stringValue!)", scopes: scopes, now: now)
    }

    func isUnauthorized(_ outcome: JWTAuthorizer.Outcome) -> Bool {
        if case .unauthorized = outcome { return true }
        return false
    }

    @Test func anRS256TokenFromTheJWKSIsAuthorizedWithItsClaims() throws {
        guard case .authorized(let claims) = check("valid") else {
            Issue.record("not authorized")
            return
        }
        #expect(claims["sub"] == "user-42")
        guard case .authorized = check("clientIdAudience") else {
            Issue.record("client_id is an audience")
            return
        }
    }

    @Test func forgedExpiredAndForeignTokensAreUnauthorized() {
        for token in ["tampered", "expired", "otherIssuer", "otherAudience", "notYetValid"] {
            #expect(isUnauthorized(check(token)), "\(token) must be refused")
        }
        #expect(isUnauthorized(authorizer.authorize(nil, scopes: [], now: now)))
        #expect(isUnauthorized(authorizer.authorize("Bearer not.a.jwt", scopes: [], now: now)))
    }

    @Test func aMissingScopeIsForbidden() {
        guard case .forbidden = check("readOnly", scopes: ["items.write"]) else {
            Issue.record("a token without the route's scope is forbidden")
            return
        }
        guard case .authorized = check("readOnly", scopes: ["items.read", "items.write"]) else {
            Issue.record("one of the route's scopes is enough")
            return
        }
    }

    @Test func developmentTokensVerifyOnlyWithTheirKey() {
        let secret = [UInt8](repeating: 7, count: 32)
        let claims: JSONObject = [
            "sub": "ada", "iss": "https://auth.staging.example.com/", "aud": "swiftapi-staging", "exp": 4_102_444_800,
        ]
        let token = JWTAuthorizer.developmentToken(claims: claims, secret: secret, kid: "dev")
        let trusting = JWTAuthorizer(
            issuer: authorizer.issuer, audiences: authorizer.audiences, keys: [.hmac(kid: "dev", secret: secret)])
        guard case .authorized = trusting.authorize("Bearer \(token)", scopes: [], now: now) else {
            Issue.record("a development token verifies with the development key")
            return
        }
        #expect(isUnauthorized(authorizer.authorize("Bearer \(token)", scopes: [], now: now)))
        let other = JWTAuthorizer(
            issuer: authorizer.issuer, audiences: authorizer.audiences,
            keys: [.hmac(kid: "dev", secret: [UInt8](repeating: 8, count: 32))])
        #expect(isUnauthorized(other.authorize("Bearer \(token)", scopes: [], now: now)))
    }
}
