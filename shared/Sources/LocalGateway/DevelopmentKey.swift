import HTTPAPI
import JSONCoding
import JWT

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
