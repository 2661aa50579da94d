import Platform

/// AWS credentials; `sessionToken` is present for temporary credentials (always, in Lambda).
public struct AWSCredentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// An HTTP request to sign: the URL parts as they go on the wire (path and query already
/// percent-encoded), headers in order.
public struct SignableRequest: Sendable {
    public var method: String
    public var scheme: String
    public var host: String
    public var port: Int?
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String, scheme: String = "https", host: String, port: Int? = nil, path: String = "/",
        query: String = "",
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The Host header value: lower-case host, port only when not the scheme's default.
    public var hostHeader: String {
        let defaultPort = scheme == "https" ? 443 : 80
        if let port, port != defaultPort { return "\(host.lowercased()):\(port)" }
        return host.lowercased()
    }
}

/// Signature Version 4 (header form), matching botocore's `SigV4Auth` for non-S3 services.
public struct SigV4Signer: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    public var service: String

    /// Headers SigV4 leaves unsigned (hop-by-hop, or rewritten by proxies).
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` and `Authorization` to the request.
    public func sign(_ request: inout SignableRequest, epochSeconds: Int64) {
        let stamp = Self.timestamp(epochSeconds)
        request.headers.removeAll {
            ["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased())
        }
        request.headers.append(("X-Amz-Date", stamp))
        if let token = credentials.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
        let (canonical, signedHeaders) = canonicalRequest(request)
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(stamp)\n\(scope)\n\(hex(SHA256.hash(canonical.utf8)))"
        var key = HMAC.sha256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: stamp.prefix(8).utf8)
        for part in [region, service, "aws4_request"] { key = HMAC.sha256(key: key, message: part.utf8) }
        let signature = hex(HMAC.sha256(key: key, message: stringToSign.utf8))
        request.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
    }

    func canonicalRequest(_ request: SignableRequest) -> (String, String) {
        var byName: [String: [String]] = [:]
        for (name, value) in request.headers where !Self.unsignedHeaders.contains(name.lowercased()) {
            byName[name.lowercased(), default: []].append(
                value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(
                    separator: " "))
        }
        if byName["host"] == nil { byName["host"] = [request.hostHeader] }
        let names = byName.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(byName[$0]!.joined(separator: ","))" }.joined(separator: "\n")
        let signedHeaders = names.joined(separator: ";")
        let pairs =
            request.query.isEmpty
            ? []
            : request.query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> (String, String) in
                if let eq = pair.firstIndex(of: "=") {
                    return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
                }
                return (String(pair), "")
            }
        let query = pairs.sorted {
            $0.0 != $1.0
                ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8)
        }
        .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonical = [
            request.method.uppercased(), Self.canonicalPath(request.path), query, canonicalHeaders + "\n",
            signedHeaders,
            hex(SHA256.hash(request.body)),
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// Removes dot segments and empty segments, then percent-encodes (again) all but `/` and `~`.
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." { if !output.isEmpty { output.removeLast() } } else { output.append(segment) }
        }
        var normalized = (path.hasPrefix("/") ? "/" : "") + output.joined(separator: "/")
        if path.hasSuffix("/") && !output.isEmpty { normalized += "/" }
        return percentEncode(normalized, keep: "/~")
    }

    static func percentEncode(_ text: String, keep: String) -> String {
        let keepBytes = Set(keep.utf8)
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in text.utf8 {
            let unreserved =
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D
                || b == 0x2E || b == 0x5F
            if unreserved || keepBytes.contains(b) {
                out.append(b)
            } else {
                out += [0x25, digits[Int(b >> 4)], digits[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `20261123T013000Z`
    static func timestamp(_ epochSeconds: Int64) -> String {
        let iso = WallClock.iso8601(milliseconds: epochSeconds * 1000)  // 2026-11-23T01:30:00.000Z
        return iso.prefix(19).filter { $0 != "-" && $0 != ":" } + "Z"
    }
}
