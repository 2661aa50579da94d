import AWSCore
import HTTPAPI
import JSONCoding
import Synchronization

/// API Gateway's JWT authorizer, locally: the bearer token's signature checked against the keys
/// of a JWKS (RS256 and ES256 keys as identity providers publish them, verified by this module's
/// own RSA and P-256 arithmetic, or the HS256 development key `local-api` creates), then `iss`, `aud`/`client_id`, `exp`, `nbf` and the route's scopes, as
/// API Gateway checks them. A bad token is a 401; a valid token without a required scope a 403.
public struct JWTAuthorizer: Sendable {
    public enum Key: Sendable {
        case hmac(kid: String?, secret: [UInt8])
        /// RS256: RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 bits or more.
        case rsa(kid: String?, key: RSAPublicKey)
        /// ES256: ECDSA on P-256 with SHA-256.
        case p256(kid: String?, key: P256PublicKey)

        public var kid: String? {
            switch self {
            case .hmac(let kid, _), .rsa(let kid, _), .p256(let kid, _): kid
            }
        }

        /// Whether `signature` over `message` verifies with this key under the token's `alg`.
        /// An alg this key does not use (including "none") never verifies.
        func verifies(alg: String?, signature: [UInt8], message: [UInt8]) -> Bool {
            switch (alg, self) {
            case ("HS256", .hmac(_, let secret)):
                return constantTimeEqual(AWSCore.HMAC.sha256(key: secret, message: message), signature)
            case ("RS256", .rsa(_, let key)):
                return key.isValidSignature(signature, for: message)
            case ("ES256", .p256(_, let key)):
                // JWS carries r || s (64 bytes), not DER (RFC 7518 §3.4).
                return key.isValidSignature(signature, for: message)
            default:
                return false
            }
        }
    }

    public enum Outcome: Sendable, Equatable {
        case authorized(claims: JSONObject)
        case unauthorized(reason: String)
        /// A valid token without the route's scopes: its claims, as the access log and a contract record them.
        case forbidden(claims: JSONObject)
    }

    public var issuer: String
    public var audiences: [String]
    public var keys: [Key]
    /// Tokens whose signature verified: clients resend the same token, and RS256 costs
    /// milliseconds. Claims (exp, nbf, scopes) are still checked on every request.
    private let verifiedSignatures = SignatureCache()

    public init(issuer: String, audiences: [String], keys: [Key]) {
        self.issuer = issuer
        self.audiences = audiences
        self.keys = keys
    }

    public struct KeyError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The signing keys of an identity provider's published JWKS: RSA (RS256) and EC P-256 (ES256)
    /// keys meant for signatures. A key this verifier cannot use (symmetric, for encryption, another
    /// curve or algorithm, too short or malformed) is skipped with its reason rather than failing
    /// the whole document: a provider may publish such keys beside its signing keys, and one of
    /// them must not take the API down. A JWKS with no usable key is an error.
    public static func signingKeys(publishedJWKS jwks: JSONValue) throws -> (keys: [Key], skipped: [String]) {
        guard let entries = jwks["keys"]?.arrayValue else {
            throw KeyError(description: "a JWKS needs a \"keys\" array")
        }
        var keys: [Key] = []
        var skipped: [String] = []
        for entry in entries {
            let kid = entry["kid"]?.stringValue ?? "?"
            guard ["RSA", "EC"].contains(entry["kty"]?.stringValue ?? "") else {
                skipped.append("key \(kid): kty \(entry["kty"]?.stringValue ?? "missing") is not RSA or EC")
                continue
            }
            guard (entry["use"]?.stringValue ?? "sig") == "sig" else {
                skipped.append("key \(kid): use is not sig")
                continue
            }
            guard ["RS256", "ES256", nil].contains(entry["alg"]?.stringValue) else {
                skipped.append("key \(kid): alg \(entry["alg"]?.stringValue ?? "") is not RS256 or ES256")
                continue
            }
            do { keys.append(try key(entry)) } catch { skipped.append(error.description) }
        }
        guard !keys.isEmpty else {
            let reasons = skipped.isEmpty ? "" : " (\(skipped.joined(separator: "; ")))"
            throw KeyError(description: "the JWKS has no usable RS256 or ES256 signing key\(reasons)")
        }
        return (keys, skipped)
    }

    /// The `kid` in a bearer token's header, when it has one.
    public static func keyID(of authorization: String?) -> String? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let token = authorization.dropFirst("bearer ".count).trimmingSpaces
        guard let header = token.split(separator: ".", maxSplits: 1).first, let bytes = Base64.decodeURL(header),
            case .object(let fields)? = try? JSONValue.parse(bytes)
        else { return nil }
        return fields["kid"]?.stringValue
    }

    /// Whether a key with this id is among the keys (tokens without a kid try every key).
    public func hasKey(id: String) -> Bool { keys.contains { $0.kid == id } }

    /// Keys from a JWKS document (`{"keys": [...]}`): `RSA` keys (n, e), `EC` P-256 keys (x, y)
    /// and `oct` keys (k).
    public static func keys(jwks: JSONValue) throws -> [Key] {
        guard let entries = jwks["keys"]?.arrayValue else {
            throw KeyError(description: "a JWKS needs a \"keys\" array")
        }
        return try entries.map(key)
    }

    /// One JWK: `RSA` (n, e: 2048 to 8192 bits), `EC` P-256 (x, y) or `oct` (k, 32 bytes or more).
    static func key(_ entry: JSONValue) throws(KeyError) -> Key {
        let kid = entry["kid"]?.stringValue
        func bytes(_ field: String) -> [UInt8]? { entry[field]?.stringValue.flatMap(Base64.decodeURL) }
        switch entry["kty"]?.stringValue {
        case "RSA":
            guard let n = bytes("n"), let e = bytes("e") else {
                throw KeyError(description: "RSA key \(kid ?? "?") needs base64url n and e")
            }
            // Above 8192 bits a key only costs verification time (a modular power per token).
            guard let key = RSAPublicKey(modulus: n, exponent: e), (2048...8192).contains(key.bits) else {
                throw KeyError(description: "RSA key \(kid ?? "?") is not a valid RSA public key of 2048 to 8192 bits")
            }
            return .rsa(kid: kid, key: key)
        case "EC":
            guard entry["crv"]?.stringValue == "P-256" else {
                throw KeyError(description: "EC key \(kid ?? "?"): only crv P-256 (ES256) is supported")
            }
            guard let x = bytes("x"), let y = bytes("y"), let key = P256PublicKey(x: x, y: y) else {
                throw KeyError(description: "EC key \(kid ?? "?") needs base64url x and y of a P-256 point")
            }
            return .p256(kid: kid, key: key)
        case "oct":
            guard let k = bytes("k"), k.count >= 32 else {
                throw KeyError(description: "oct key \(kid ?? "?") needs a base64url k of at least 32 bytes")
            }
            return .hmac(kid: kid, secret: k)
        default:
            throw KeyError(
                description: "key \(kid ?? "?"): only RSA (RS256), EC P-256 (ES256) and oct (HS256) keys are supported")
        }
    }

    public func authorize(_ authorization: String?, scopes: [String], now: Int64) -> Outcome {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            return .unauthorized(reason: "no bearer token")
        }
        let token = authorization.dropFirst("bearer ".count).trimmingSpaces
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64.decodeURL(parts[0]),
            let payloadBytes = Base64.decodeURL(parts[1]),
            let signature = Base64.decodeURL(parts[2]), case .object(let header)? = try? JSONValue.parse(headerBytes),
            case .object(let claims)? = try? JSONValue.parse(payloadBytes)
        else { return .unauthorized(reason: "not a JWT") }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let kid = header["kid"]?.stringValue
        let candidates = keys.filter { kid == nil || $0.kid == nil || $0.kid == kid }
        let cached = verifiedSignatures.contains(String(token))
        let verified =
            cached
            || candidates.contains {
                $0.verifies(alg: header["alg"]?.stringValue, signature: signature, message: signed)
            }
        guard verified else { return .unauthorized(reason: "signature does not verify with the configured keys") }
        if !cached {
            verifiedSignatures.insert(String(token))
        }
        guard claims["iss"]?.stringValue == issuer else { return .unauthorized(reason: "iss is not \(issuer)") }
        let audience =
            claims["aud"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue ?? ""] }
            ?? claims["client_id"].flatMap(\.stringValue).map { [$0] } ?? []
        guard audience.contains(where: audiences.contains) else { return .unauthorized(reason: "aud is not accepted") }
        let seconds = now / 1000
        guard case .seconds(let exp) = NumericDate(claims["exp"]) else {
            return .unauthorized(reason: "exp is missing or not a NumericDate")
        }
        guard exp > seconds else { return .unauthorized(reason: "expired") }
        switch NumericDate(claims["nbf"]) {
        case .absent: break
        case .invalid: return .unauthorized(reason: "nbf is not a NumericDate")
        case .seconds(let nbf): if nbf > seconds { return .unauthorized(reason: "not valid yet") }
        }
        if !scopes.isEmpty {
            let granted = Self.grantedScopes(claims)
            guard scopes.contains(where: granted.contains) else { return .forbidden(claims: claims) }
        }
        return .authorized(claims: claims)
    }

    /// The scopes a token grants: its space-separated `scope` and its `scp` list.
    public static func grantedScopes(_ claims: JSONObject) -> [String] {
        (claims["scope"]?.stringValue?.split(separator: " ").map(String.init) ?? [])
            + (claims["scp"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// A claim holding a NumericDate (RFC 7519 §2): a JSON number of seconds, possibly fractional.
    /// Any other type, or a value no 64-bit clock reaches, is invalid: refused, never trapped on.
    enum NumericDate: Equatable {
        case absent, invalid
        case seconds(Int64)

        init(_ value: JSONValue?) {
            guard let value else {
                self = .absent
                return
            }
            guard case .number(let text) = value else {
                self = .invalid
                return
            }
            if let whole = Int64(text) {
                self = .seconds(whole)
            } else if let real = Double(text), real.isFinite, abs(real) < 9.0e15 {
                // Below 2⁵³, where every whole number converts exactly.
                self = .seconds(Int64(real.rounded(.down)))
            } else {
                self = .invalid
            }
        }
    }

    /// Signs an HS256 token, for the development key (`local-api token`).
    public static func developmentToken(claims: JSONObject, secret: [UInt8], kid: String) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": .string(kid)]
        let signed =
            Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(JSONValue.object(claims).serialized())
        return signed + "." + Base64.encodeURL(AWSCore.HMAC.sha256(key: secret, message: Array(signed.utf8)))
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}

/// Tokens whose signature verified (at most 1,024, then forgotten together).
final class SignatureCache: Sendable {
    private let seen = Mutex<Set<String>>([])

    func contains(_ token: String) -> Bool { seen.withLock { $0.contains(token) } }

    func insert(_ token: String) {
        seen.withLock { seen in
            if seen.count >= 1024 { seen.removeAll() }
            seen.insert(token)
        }
    }
}
