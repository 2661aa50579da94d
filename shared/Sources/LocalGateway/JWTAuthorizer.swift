import AWSCore
import HTTPAPI
import JSONCoding
import Synchronization

/// API Gateway's JWT authorizer, locally: the bearer token's signature checked against the keys
/// of a JWKS (RS256 keys as identity providers publish them, or the HS256 development key
/// `local-api` creates), then `iss`, `aud`/`client_id`, `exp`, `nbf` and the route's scopes, as
/// API Gateway checks them. A bad token is a 401; a valid token without a required scope a 403.
public struct JWTAuthorizer: Sendable {
    public enum Key: Sendable {
        case hmac(kid: String?, secret: [UInt8])
        case rsa(kid: String?, modulus: [UInt8], exponent: [UInt8])

        var kid: String? {
            switch self {
            case .hmac(let kid, _), .rsa(let kid, _, _): kid
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
    }

    /// Keys from a JWKS document (`{"keys": [...]}`): `RSA` keys (n, e) and `oct` keys (k).
    public static func keys(jwks: JSONValue) throws -> [Key] {
        guard let entries = jwks["keys"]?.arrayValue else {
            throw KeyError(description: "a JWKS needs a \"keys\" array")
        }
        return try entries.map { entry in
            let kid = entry["kid"]?.stringValue
            switch entry["kty"]?.stringValue {
            case "RSA":
                guard let n = entry["n"]?.stringValue.flatMap(Base64.decode),
                    let e = entry["e"]?.stringValue.flatMap(Base64.decode)
                else { throw KeyError(description: "RSA key \(kid ?? "?") needs base64url n and e") }
                return .rsa(kid: kid, modulus: n, exponent: e)
            case "oct":
                guard let k = entry["k"]?.stringValue.flatMap(Base64.decode), k.count >= 32 else {
                    throw KeyError(description: "oct key \(kid ?? "?") needs a base64url k of at least 32 bytes")
                }
                return .hmac(kid: kid, secret: k)
            default:
                throw KeyError(description: "key \(kid ?? "?"): only RSA (RS256) and oct (HS256) keys are supported")
            }
        }
    }

    public func authorize(_ authorization: String?, scopes: [String], now: Int64) -> Outcome {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
            return .unauthorized(reason: "no bearer token")
        }
        let token = authorization.dropFirst("bearer ".count).trimmingSpaces
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64.decode(parts[0]), let payloadBytes = Base64.decode(parts[1]),
            let signature = Base64.decode(parts[2]), case .object(let header)? = try? JSONValue.parse(headerBytes),
            case .object(let claims)? = try? JSONValue.parse(payloadBytes)
        else { return .unauthorized(reason: "not a JWT") }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let kid = header["kid"]?.stringValue
        let candidates = keys.filter { kid == nil || $0.kid == nil || $0.kid == kid }
        let cached = verifiedSignatures.contains(String(token))
        let verified =
            cached
            || candidates.contains { key in
                switch (header["alg"]?.stringValue, key) {
                case ("HS256", .hmac(_, let secret)):
                    constantTimeEqual(HMAC.sha256(key: secret, message: signed), signature)
                case ("RS256", .rsa(_, let n, let e)):
                    RSA.verifySHA256(signature: signature, message: signed, modulus: n, exponent: e)
                default: false
                }
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
        guard let exp = claims["exp"].flatMap(Self.number), exp > seconds else {
            return .unauthorized(reason: "expired or no exp")
        }
        if let nbf = claims["nbf"].flatMap(Self.number), nbf > seconds { return .unauthorized(reason: "not valid yet") }
        if !scopes.isEmpty {
            let granted =
                (claims["scope"]?.stringValue?.split(separator: " ").map(String.init) ?? [])
                + (claims["scp"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            guard scopes.contains(where: granted.contains) else { return .forbidden(claims: claims) }
        }
        return .authorized(claims: claims)
    }

    static func number(_ value: JSONValue) -> Int64? {
        if case .number(let text) = value { return Int64(text) ?? Double(text).map { Int64($0) } }
        return nil
    }

    /// Signs an HS256 token, for the development key (`local-api token`).
    public static func developmentToken(claims: JSONObject, secret: [UInt8], kid: String) -> String {
        let header: JSONValue = ["alg": "HS256", "typ": "JWT", "kid": .string(kid)]
        let signed =
            Base64.encodeURL(header.serialized()) + "." + Base64.encodeURL(JSONValue.object(claims).serialized())
        return signed + "." + Base64.encodeURL(HMAC.sha256(key: secret, message: Array(signed.utf8)))
    }
}

func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}

/// RSASSA-PKCS1-v1_5 verification with SHA-256 (RS256): s^e mod n must be the DER-wrapped digest.
/// Plain schoolbook arithmetic: verification uses the small public exponent, so it is quick.
enum RSA {
    static let sha256Prefix: [UInt8] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ]

    static func verifySHA256(signature: [UInt8], message: [UInt8], modulus: [UInt8], exponent: [UInt8]) -> Bool {
        let n = BigUInt(bytes: modulus)
        let k = modulus.drop(while: { $0 == 0 }).count
        guard k >= 128, signature.count == k else { return false }  // RSA keys of at least 1024 bits
        let s = BigUInt(bytes: signature)
        guard s < n else { return false }
        let decoded = s.power(BigUInt(bytes: exponent), modulus: n).bytes(count: k)
        let digestInfo = sha256Prefix + SHA256.hash(message)
        let expected = [0x00, 0x01] + [UInt8](repeating: 0xFF, count: k - 3 - digestInfo.count) + [0x00] + digestInfo
        return constantTimeEqual(decoded, expected)
    }
}

/// Just enough unsigned big-integer arithmetic for RSA verification: little-endian 32-bit limbs.
struct BigUInt: Comparable {
    var limbs: [UInt32]

    init(limbs: [UInt32]) {
        var trimmed = limbs
        while trimmed.last == 0 { trimmed.removeLast() }
        self.limbs = trimmed
    }

    init(bytes: [UInt8]) {
        var limbs: [UInt32] = []
        var index = bytes.count
        while index > 0 {
            let start = max(0, index - 4)
            limbs.append(bytes[start..<index].reduce(0) { $0 << 8 | UInt32($1) })
            index = start
        }
        self.init(limbs: limbs)
    }

    func bytes(count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        for (i, limb) in limbs.enumerated() {
            for j in 0..<4 where count - 1 - (i * 4 + j) >= 0 {
                out[count - 1 - (i * 4 + j)] = UInt8(truncatingIfNeeded: limb >> (8 * UInt32(j)))
            }
        }
        return out
    }

    var bitWidth: Int { limbs.isEmpty ? 0 : limbs.count * 32 - limbs.last!.leadingZeroBitCount }
    func bit(_ i: Int) -> Bool { limbs[i / 32] >> UInt32(i % 32) & 1 == 1 }

    static func < (a: BigUInt, b: BigUInt) -> Bool {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
        for i in stride(from: a.limbs.count - 1, through: 0, by: -1) where a.limbs[i] != b.limbs[i] {
            return a.limbs[i] < b.limbs[i]
        }
        return false
    }

    static func * (a: BigUInt, b: BigUInt) -> BigUInt {
        var out = [UInt32](repeating: 0, count: a.limbs.count + b.limbs.count + 1)
        for (i, x) in a.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.limbs.enumerated() {
                let t = UInt64(x) * UInt64(y) + UInt64(out[i + j]) + carry
                out[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            out[i + b.limbs.count] = UInt32(carry)
        }
        return BigUInt(limbs: out)
    }

    mutating func subtract(_ b: BigUInt) {  // self >= b
        var borrow: Int64 = 0
        for i in limbs.indices {
            var t = Int64(limbs[i]) - borrow - (i < b.limbs.count ? Int64(b.limbs[i]) : 0)
            borrow = t < 0 ? 1 : 0
            if t < 0 { t += 1 << 32 }
            limbs[i] = UInt32(t)
        }
        self = BigUInt(limbs: limbs)
    }

    /// self mod m, bit by bit (shift in, subtract when it fits).
    func modulo(_ m: BigUInt) -> BigUInt {
        var r = BigUInt(limbs: [])
        for i in stride(from: bitWidth - 1, through: 0, by: -1) {
            var shifted = [UInt32](repeating: 0, count: r.limbs.count + 1)
            var carry: UInt32 = bit(i) ? 1 : 0
            for (j, limb) in r.limbs.enumerated() {
                shifted[j] = limb << 1 | carry
                carry = limb >> 31
            }
            shifted[r.limbs.count] = carry
            r = BigUInt(limbs: shifted)
            if !(r < m) { r.subtract(m) }
        }
        return r
    }

    func power(_ e: BigUInt, modulus m: BigUInt) -> BigUInt {
        var result = BigUInt(limbs: [1])
        for i in stride(from: e.bitWidth - 1, through: 0, by: -1) {
            result = (result * result).modulo(m)
            if e.bit(i) { result = (result * self).modulo(m) }
        }
        return result
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension JWTAuthorizer {
    public static let developmentKeyID = "local-api-development"

    /// The development signing key: created on first use as a JWKS with one HS256 key (32 random
    /// bytes, file mode 0600), so tokens from `local-api token` keep working across restarts and
    /// are trusted by this machine's gateway only.
    public static func developmentKey(path: String) throws -> [UInt8] {
        if let bytes = try? FileBytes.read(path), let document = try? JSONValue.parse(bytes),
            case .hmac(_, let secret)? = try keys(jwks: document).first
        {
            return secret
        }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let jwks: JSONValue = [
            "keys": [
                [
                    "kty": "oct", "kid": .string(developmentKeyID), "alg": "HS256",
                    "k": .string(Base64.encodeURL(secret)),
                ]
            ]
        ]
        if let slash = path.lastIndex(of: "/") { mkdir(String(path[..<slash]), 0o755) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw KeyError(description: "cannot write the development key to \(path)") }
        let bytes = jwks.prettySerialized()
        let written = bytes.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count else { throw KeyError(description: "cannot write the development key to \(path)") }
        return secret
    }
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
