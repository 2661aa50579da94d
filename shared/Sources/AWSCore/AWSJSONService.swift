import Platform

/// One AWS service spoken over the JSON protocol (`POST /`, `X-Amz-Target: <prefix>.<Operation>`,
/// `application/x-amz-json-1.x`), signed with SigV4 over a pooled transport. DynamoDB and Secrets
/// Manager clients are this plus their own error mapping.
public struct AWSJSONService: Sendable {
    public let endpoint: String
    public let transport: HTTPTransport
    let signer: SigV4Signer
    let targetPrefix: String
    let contentType: String
    let path: String

    /// `signingName` is the SigV4 service name (`dynamodb`, `secretsmanager`); `jsonVersion` the
    /// protocol's content-type version (`1.0` for DynamoDB, `1.1` for most others).
    public init(
        endpoint: String, signingName: String, targetPrefix: String, jsonVersion: String,
        credentials: AWSCredentials, region: String
    ) throws {
        self.endpoint = endpoint
        transport = try HTTPTransport(endpoint: endpoint)
        signer = SigV4Signer(credentials: credentials, region: region, service: signingName)
        self.targetPrefix = targetPrefix
        contentType = "application/x-amz-json-\(jsonVersion)"
        // An endpoint may carry a base path (rare, but proxies do it).
        let afterScheme = endpoint.utf8Offset(of: "://").map { endpoint.utf8.dropFirst($0 + 3) }
        if let afterScheme, let slash = afterScheme.firstIndex(of: UInt8(ascii: "/")) {
            path = String(endpoint[slash...])
        } else {
            path = "/"
        }
    }

    /// Signs and sends one operation's body; the caller maps non-200 answers to its errors.
    public func send(_ operation: String, body: [UInt8], timeout: Duration) async throws -> TransportResponse {
        var request = SignableRequest(
            method: "POST", scheme: transport.scheme, host: transport.host, port: transport.port, path: path,
            headers: [("Content-Type", contentType), ("X-Amz-Target", "\(targetPrefix).\(operation)")], body: body)
        request.headers.append(("Host", request.hostHeader))
        signer.sign(&request, epochSeconds: WallClock.nowMilliseconds() / 1000)
        return try await transport.send(
            method: "POST", path: path, headers: request.headers, body: body, timeout: timeout)
    }

    public func shutdown() async { await transport.shutdown() }
}
