import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Platform
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An HTTP/1.1 response, fully read.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// The request may not have reached the server (a reused connection went stale).
    public let beforeResponse: Bool
}

/// A pooled HTTP/1.1 client for one endpoint (HTTP or HTTPS), created once per process and
/// shared by every invocation: connections stay open between requests, up to `maxConnections`.
///
/// HTTPS certificates are always verified, with TLS 1.2 at least, against `trustStore`
/// (`HTTPTransport.trustStore(environment:)`). The TLS context is built on the first connection,
/// not at init; from a hashed directory it reads only the certificates a server's chain names,
/// not the whole bundle, so a cold start's first handshake does not wait for ~140 certificates to
/// be parsed.
public final class HTTPTransport: Sendable {
    public let scheme: String
    public let host: String
    public let port: Int
    /// What to trust: a PEM bundle or an OpenSSL hashed directory; nil: NIOSSL's platform default.
    public let trustStore: String?
    /// A response body larger than this fails the request instead of filling memory.
    public let maxResponseBytes: Int
    private let tls = Mutex<NIOSSLContext?>(nil)
    let pool: ConnectionPool

    public init(
        endpoint: String, maxConnections: Int = 16,
        trustStore: String? = HTTPTransport.processTrustStore, maxResponseBytes: Int = 32 * 1024 * 1024
    ) throws {
        guard let offset = endpoint.utf8Offset(of: "://") else {
            throw TransportError(
                description: "endpoint '\(endpoint)' needs a scheme (https://...)", beforeResponse: true)
        }
        let afterScheme = endpoint.utf8.index(endpoint.startIndex, offsetBy: offset + 3)
        scheme = String(endpoint.utf8.prefix(offset))!.lowercased()
        var authority = endpoint[afterScheme...]
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        if let colon = authority.lastIndex(of: ":"), let p = Int(authority[authority.index(after: colon)...]) {
            host = String(authority[..<colon])
            port = p
        } else {
            host = String(authority)
            port = scheme == "https" ? 443 : 80
        }
        self.trustStore = trustStore
        self.maxResponseBytes = maxResponseBytes
        pool = ConnectionPool(maxConnections: maxConnections)
    }

    /// Where certificates are checked against, as OpenSSL's tools decide it: `SSL_CERT_FILE` (a PEM
    /// bundle), `SSL_CERT_DIR` (a hashed directory), else the system's hashed directory where it
    /// has one (Amazon Linux 2023 and Fedora extract one beside their bundle; Debian and Ubuntu keep
    /// theirs in /etc/ssl/certs), else nil: NIOSSL's default, the system's bundle.
    public static func trustStore(environment: [String: String]) -> String? {
        if let file = environment["SSL_CERT_FILE"], !file.isEmpty { return file }
        if let directory = environment["SSL_CERT_DIR"], !directory.isEmpty { return directory }
        return systemHashedDirectories.first(where: isHashedDirectory)
    }

    /// This process's trust store, decided once.
    public static let processTrustStore = trustStore(environment: ProcessEnvironment.current())

    public static let systemHashedDirectories = ["/etc/pki/ca-trust/extracted/pem/directory-hash", "/etc/ssl/certs"]

    static func isDirectory(_ path: String) -> Bool {
        guard let directory = opendir(path) else { return false }
        closedir(directory)
        return true
    }

    /// A directory holding at least one `<8 hex digits>.<n>` entry, as `openssl rehash` names them.
    public static func isHashedDirectory(_ path: String) -> Bool {
        guard let directory = opendir(path) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            let hex = name.prefix(8)
            if name.count >= 10, hex.count == 8,
                hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }),
                name[8] == UInt8(ascii: "."), name.dropFirst(9).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
            {
                return true
            }
        }
        return false
    }

    /// The TLS context, built once on first use (under the lock, so two first connections share it).
    func tlsContext() throws -> NIOSSLContext {
        try tls.withLock { context in
            if let context { return context }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            configuration.minimumTLSVersion = .tlsv12
            if let trustStore { configuration.trustRoots = .file(trustStore) }
            let made: NIOSSLContext
            do {
                made = try NIOSSLContext(configuration: configuration)
            } catch {
                throw TransportError(
                    description:
                        "cannot load the TLS trust store \(trustStore.map { (Self.isDirectory($0) ? "SSL_CERT_DIR=" : "SSL_CERT_FILE=") + $0 } ?? "(the system's)"): \(error)",
                    beforeResponse: true)
            }
            context = made
            return made
        }
    }

    /// Sends a request; `path` includes any query string. A stale pooled connection is retried once.
    public func send(
        method: String, path: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration
    ) async throws -> TransportResponse {
        for attempt in 0..<2 {
            let connection = try await pool.acquire { try await self.connect() }
            do {
                let response = try await connection.send(
                    method: method, path: path, host: host, headers: headers, body: body, timeout: timeout)
                await pool.release(connection, reusable: response.header("connection")?.lowercased() != "close")
                return response
            } catch let error as TransportError where error.beforeResponse && connection.reused && attempt == 0 {
                await pool.release(connection, reusable: false)
                continue
            } catch {
                await pool.release(connection, reusable: false)
                throw error
            }
        }
        throw TransportError(description: "unreachable", beforeResponse: true)
    }

    func connect() async throws -> Connection {
        let host = self.host
        let tls = scheme == "https" ? try tlsContext() : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(
                                context: tls, serverHostname: Self.isIPLiteral(host) ? nil : host)
                        )
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return Connection(channel, maxResponseBytes: maxResponseBytes)
    }

    /// Whether a URL's host is an IPv4 or IPv6 address (which TLS sends no server name for, RFC
    /// 6066 §3) rather than a name; a name may start with a digit.
    public static func isIPLiteral(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (try? SocketAddress(ipAddress: bare, port: 0)) != nil
    }

    public func shutdown() async { await pool.closeAll() }
}

/// One keep-alive connection. A task owns the channel and serves requests sent to it in order.
final class Connection: Sendable {
    struct Job: Sendable {
        let head: HTTPRequestHead
        let body: [UInt8]
        let reply: CheckedContinuation<TransportResponse, any Error>
    }

    private let jobs: AsyncStream<Job>.Continuation
    private let state = Mutex((alive: true, uses: 0))
    private let channel: any Channel

    init(_ asyncChannel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, maxResponseBytes: Int) {
        let (stream, continuation) = AsyncStream<Job>.makeStream()
        jobs = continuation
        channel = asyncChannel.channel
        Task { [self] in
            try? await asyncChannel.executeThenClose { inbound, outbound in
                var responses = inbound.makeAsyncIterator()
                for await job in stream {
                    var sent = false
                    do {
                        try await outbound.write(.head(job.head))
                        if !job.body.isEmpty {
                            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: job.body))))
                        }
                        try await outbound.write(.end(nil))
                        sent = true
                        var response = TransportResponse(status: 0, headers: [], body: [])
                        var started = false
                        while let part = try await responses.next() {
                            switch part {
                            case .head(let head):
                                started = true
                                response.status = Int(head.status.code)
                                response.headers = head.headers.map { ($0.name, $0.value) }
                            case .body(let buffer):
                                guard response.body.count + buffer.readableBytes <= maxResponseBytes else {
                                    throw TransportError(
                                        description: "the response body is larger than \(maxResponseBytes) bytes",
                                        beforeResponse: false)
                                }
                                response.body.append(contentsOf: buffer.readableBytesView)
                            case .end:
                                job.reply.resume(returning: response)
                            }
                            if case .end = part { break }
                        }
                        if !started {
                            throw TransportError(
                                description: "the connection closed before a response", beforeResponse: true)
                        }
                    } catch {
                        let transportError =
                            error as? TransportError
                            ?? TransportError(description: "\(error)", beforeResponse: !sent)
                        job.reply.resume(throwing: transportError)
                        break
                    }
                }
            }
            self.state.withLock { $0.alive = false }
            continuation.finish()
            // Anything queued after the channel died fails instead of hanging.
            for await job in stream {
                job.reply.resume(throwing: TransportError(description: "connection closed", beforeResponse: true))
            }
        }
    }

    var alive: Bool { state.withLock { $0.alive } }
    var reused: Bool { state.withLock { $0.uses > 1 } }

    func send(
        method: String, path: String, host: String, headers: [(name: String, value: String)], body: [UInt8],
        timeout: Duration
    ) async throws -> TransportResponse {
        state.withLock { $0.uses += 1 }
        var requestHeaders = HTTPHeaders(headers.map { ($0.name, $0.value) })
        if !requestHeaders.contains(name: "host") { requestHeaders.add(name: "host", value: host) }
        requestHeaders.replaceOrAdd(name: "content-length", value: String(body.count))
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: method), uri: path, headers: requestHeaders)
        let channel = self.channel
        let job = { @Sendable (reply: CheckedContinuation<TransportResponse, any Error>) in
            Job(head: head, body: body, reply: reply)
        }
        return try await withThrowingTaskGroup(of: TransportResponse?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { reply in
                    if case .terminated = self.jobs.yield(job(reply)) {
                        reply.resume(throwing: TransportError(description: "connection closed", beforeResponse: true))
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                channel.close(promise: nil)
                throw TransportError(description: "no response within \(timeout)", beforeResponse: false)
            }
            return response
        }
    }

    func close() {
        jobs.finish()
        channel.close(promise: nil)
    }
}

actor ConnectionPool {
    let maxConnections: Int
    var idle: [Connection] = []
    var open = 0
    var waiters: [CheckedContinuation<Void, Never>] = []

    init(maxConnections: Int) { self.maxConnections = maxConnections }

    func acquire(connect: @Sendable () async throws -> Connection) async throws -> Connection {
        while true {
            while let connection = idle.popLast() {
                if connection.alive { return connection }
                open -= 1
            }
            if open < maxConnections {
                open += 1
                do { return try await connect() } catch {
                    open -= 1
                    throw error
                }
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    func release(_ connection: Connection, reusable: Bool) {
        if reusable && connection.alive {
            idle.append(connection)
        } else {
            connection.close()
            open -= 1
        }
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    func closeAll() {
        for connection in idle { connection.close() }
        open -= idle.count
        idle.removeAll()
    }
}
