import AWSCore
import Crypto
import Foundation
import JSONCoding
import JWT
import Testing

/// ES256 (ECDSA P-256, as Auth0, Okta, Cognito-compatible and most OIDC providers can publish) and
/// the tokens an authorizer must refuse whatever the key type: alg none, an unknown kid, a key
/// that is not the token's, a DER signature where JWS carries r || s (RFC 7518 §3.4).
@Suite struct JWTAuthorizerES256Tests {
    let issuer = "https://auth.staging.example.com/"
    let now: Int64 = 1_795_400_000_000
    let signingKey = P256.Signing.PrivateKey()

    func jwks(_ key: P256.Signing.PublicKey, kid: String = "ec-1") -> JSONValue {
        let point = Array(key.rawRepresentation)
        return [
            "keys": [
                [
                    "kty": "EC", "crv": "P-256", "kid": .string(kid), "alg": "ES256",
                    "x": .string(Base64.encodeURL(Array(point[..<32]))),
                    "y": .string(Base64.encodeURL(Array(point[32...]))),
                ]
            ]
        ]
    }

    func authorizer(_ key: P256.Signing.PublicKey? = nil) throws -> JWTAuthorizer {
        JWTAuthorizer(
            issuer: issuer, audiences: ["swiftapi-staging"],
            keys: try JWTAuthorizer.keys(jwks: jwks(key ?? signingKey.publicKey)))
    }

    func token(
        alg: String = "ES256", kid: String = "ec-1", exp: Int64 = 4_102_444_800, der: Bool = false,
        sign: (([UInt8]) throws -> [UInt8])? = nil
    ) throws -> String {
        let header: JSONValue = ["alg": .string(alg), "typ": "JWT", "kid": .string(kid)]
        let claims: JSONValue = [
            "sub": "ada", "iss": .string(issuer), "aud": "swiftapi-staging", "exp": .number(String(exp)),
            "scope": "items.read",
        ]
        let signed = Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(claims.serialized())
        let signature =
            try sign?(Array(signed.utf8))
            ?? {
                let signature = try signingKey.signature(for: Array(signed.utf8))
                return der ? Array(signature.derRepresentation) : Array(signature.rawRepresentation)
            }()
        return signed + "." + Base64.encodeURL(signature)
    }

    func outcome(_ token: String, _ authorizer: JWTAuthorizer) -> JWTAuthorizer.Outcome {
        authorizer.authorize("Bearer \(token)", scopes: ["items.read"], now: now)
    }

    func isUnauthorized(_ outcome: JWTAuthorizer.Outcome) -> Bool {
        if case .unauthorized = outcome { return true }
        return false
    }

    @Test func anES256TokenFromTheJWKSIsAuthorized() throws {
        guard case .authorized(let claims) = outcome(try token(), try authorizer()) else {
            Issue.record("a token signed by the JWKS's P-256 key is authorized")
            return
        }
        #expect(claims["sub"] == "ada")
    }

    @Test func anotherKeysSignatureAnUnknownKidAndAnExpiredTokenAreRefused() throws {
        let trusted = try authorizer(P256.Signing.PrivateKey().publicKey)
        #expect(isUnauthorized(outcome(try token(), trusted)), "signed by a key the JWKS does not hold")
        #expect(isUnauthorized(outcome(try token(kid: "ec-2"), try authorizer())), "a kid the JWKS does not list")
        #expect(isUnauthorized(outcome(try token(exp: 1_700_000_000), try authorizer())), "expired")
        #expect(isUnauthorized(outcome(try token(der: true), try authorizer())), "JWS signatures are r || s, not DER")
    }

    @Test func algNoneAndAlgorithmConfusionNeverVerify() throws {
        let authorizer = try authorizer()
        #expect(isUnauthorized(outcome(try token(alg: "none", sign: { _ in [] }), authorizer)))
        #expect(isUnauthorized(outcome(try token(alg: "ES384"), authorizer)), "only ES256 for a P-256 key")
        // HS256 keyed with the public point: the classic confusion attack.
        let point = Array(signingKey.publicKey.rawRepresentation)
        let confused = try token(alg: "HS256", sign: { AWSCore.HMAC.sha256(key: point, message: $0) })
        #expect(isUnauthorized(outcome(confused, authorizer)))
    }

    @Test func keysTheAuthorizerCannotUseAreRefusedWhenLoaded() {
        let p384: JSONValue = ["keys": [["kty": "EC", "crv": "P-384", "kid": "k", "x": "AA", "y": "AA"]]]
        #expect(throws: JWTAuthorizer.KeyError.self) { try JWTAuthorizer.keys(jwks: p384) }
        let offCurve: JSONValue = [
            "keys": [
                [
                    "kty": "EC", "crv": "P-256", "kid": "k",
                    "x": .string(Base64.encodeURL([UInt8](repeating: 1, count: 32))),
                    "y": .string(Base64.encodeURL([UInt8](repeating: 2, count: 32))),
                ]
            ]
        ]
        #expect(throws: JWTAuthorizer.KeyError.self, "a point not on the curve") {
            try JWTAuthorizer.keys(jwks: offCurve)
        }
        // 1024-bit RSA (a 128-byte modulus with the top bit set): below the 2048-bit floor.
        let smallRSA: JSONValue = [
            "keys": [
                [
                    "kty": "RSA", "kid": "r",
                    "n": .string(Base64.encodeURL([0xC1] + [UInt8](repeating: 0x35, count: 126) + [0x01])),
                    "e": "AQAB",
                ]
            ]
        ]
        #expect(throws: JWTAuthorizer.KeyError.self) { try JWTAuthorizer.keys(jwks: smallRSA) }
    }
}
