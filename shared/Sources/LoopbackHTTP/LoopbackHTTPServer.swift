import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as the loopback server hands it to its handler: head plus the whole body.
public struct ServerRequest: Sendable {
    public var method: String
    public var uri: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Trailer fields after a chunked body.
    public var trailers: [(name: String, value: String)]
    /// How many parts the body arrived in, and when the first did: a body streamed over time
    /// starts arriving well before its end, one written whole arrives at once.
    public var bodyParts: Int
    public var firstBodyPartAt: ContinuousClock.Instant?
    public var remoteAddress: String?

    public init(
        method: String, uri: String, version: String = "HTTP/1.1", headers: [(name: String, value: String)] = [],
        body: [UInt8] = [], trailers: [(name: String, value: String)] = [], bodyParts: Int = 0,
        firstBodyPartAt: ContinuousClock.Instant? = nil, remoteAddress: String? = nil
    ) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.body = body
        self.trailers = trailers
        self.bodyParts = bodyParts
        self.firstBodyPartAt = firstBodyPartAt
        self.remoteAddress = remoteAddress
    }

    public var path: String { String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
    public var query: String {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : ""
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }
}

public struct ServerResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// A response written as it is produced (chunked): the closure sends the head, then the body.
    public var stream: (@Sendable (ServerResponseStream) async throws -> Void)?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A streamed response: `produce` calls `head` once, then `write` for each chunk. If it throws
    /// before the head, the client gets a 502; after it, the connection closes mid-body (as a
    /// proxy does when its upstream fails).
    public static func streamed(_ produce: @escaping @Sendable (ServerResponseStream) async throws -> Void)
        -> ServerResponse
    {
        var response = ServerResponse(status: 200)
        response.stream = produce
        return response
    }
}

/// The head and chunks of a streamed response, written to the connection as they come.
public struct ServerResponseStream: Sendable {
    let sendHead: @Sendable (Int, [(name: String, value: String)]) async throws -> Void
    let sendBody: @Sendable ([UInt8]) async throws -> Void

    public init(
        head: @escaping @Sendable (Int, [(name: String, value: String)]) async throws -> Void,
        write: @escaping @Sendable ([UInt8]) async throws -> Void
    ) {
        sendHead = head
        sendBody = write
    }

    public func head(status: Int, headers: [(name: String, value: String)]) async throws {
        try await sendHead(status, headers)
    }

    public func write(_ bytes: [UInt8]) async throws {
        if !bytes.isEmpty { try await sendBody(bytes) }
    }
}

struct StreamNotStarted: Error {}

/// An HTTP/1.1 server bound to 127.0.0.1 (keep-alive, one request at a time per connection) for
/// emulators and the local gateway. `stop()` closes the listener and every connection.
public final class LoopbackHTTPServer: Sendable {
    public typealias Handler = @Sendable (ServerRequest) async -> ServerResponse

    public let port: Int
    private let listener: any Channel
    private let serving: Task<Void, Never>

    public static func start(
        host: String = "127.0.0.1", port: Int = 0, maxBodyBytes: Int = 16 * 1024 * 1024,
        tooLarge: ServerResponse? = nil, handler: @escaping Handler
    ) async throws -> LoopbackHTTPServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        let serving = Task<Void, Never> {
            _ = try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask {
                            await serve(connection, maxBodyBytes: maxBodyBytes, tooLarge: tooLarge, handler: handler)
                        }
                    }
                }
            }
        }
        return LoopbackHTTPServer(port: boundPort, listener: server.channel, serving: serving)
    }

    private init(port: Int, listener: any Channel, serving: Task<Void, Never>) {
        self.port = port
        self.listener = listener
        self.serving = serving
    }

    public var endpoint: String { "127.0.0.1:\(port)" }

    public func stop() async {
        try? await listener.close()
        serving.cancel()
        await serving.value
    }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, maxBodyBytes: Int,
        tooLarge tooLargeAnswer: ServerResponse?,
        handler: Handler
    ) async {
        let remote = connection.channel.remoteAddress?.ipAddress
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var bodyParts = 0
            var firstBodyPartAt: ContinuousClock.Instant?
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body.removeAll(keepingCapacity: true)
                    bodyParts = 0
                    firstBodyPartAt = nil
                    tooLarge = false
                case .body(let buffer):
                    bodyParts += 1
                    if firstBodyPartAt == nil { firstBodyPartAt = .now }
                    if body.count + buffer.readableBytes > maxBodyBytes {
                        tooLarge = true
                    } else {
                        body.append(contentsOf: buffer.readableBytesView)
                    }
                case .end(let trailers):
                    guard let head else { continue }
                    let request = ServerRequest(
                        method: head.method.rawValue, uri: head.uri,
                        version: "HTTP/\(head.version.major).\(head.version.minor)",
                        headers: head.headers.map { ($0.name, $0.value) }, body: body,
                        trailers: trailers.map { $0.map { ($0.name, $0.value) } } ?? [], bodyParts: bodyParts,
                        firstBodyPartAt: firstBodyPartAt, remoteAddress: remote)
                    let response =
                        tooLarge
                        ? (tooLargeAnswer
                            ?? ServerResponse(
                                status: 413, headers: [("content-type", "application/json")],
                                body: Array(#"{"message":"Request Entity Too Large"}"#.utf8)))
                        : await handler(request)
                    if let produce = response.stream {
                        let keepAlive = try await stream(
                            produce, to: outbound, version: head.version, keepAlive: head.isKeepAlive,
                            isHead: head.method == .HEAD)
                        if !keepAlive { return }
                        continue
                    }
                    var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
                    headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
                    if !head.isKeepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
                    try await outbound.write(
                        .head(
                            HTTPResponseHead(
                                version: head.version, status: .init(statusCode: response.status), headers: headers)))
                    if !response.body.isEmpty && head.method != .HEAD {
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
                    }
                    try await outbound.write(.end(nil))
                    if !head.isKeepAlive { return }
                }
            }
        }
    }

    /// Writes a streamed response; whether the connection may serve another request.
    private static func stream(
        _ produce: @Sendable (ServerResponseStream) async throws -> Void,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, version: HTTPVersion, keepAlive: Bool,
        isHead: Bool
    ) async throws -> Bool {
        let started = Mutex(false)
        // HTTP/1.0 has no chunked encoding (RFC 9112 §7.1): its client reads the body until the
        // connection closes.
        let chunked = version.major > 1 || (version.major == 1 && version.minor >= 1)
        let writer = ServerResponseStream(
            head: { status, fields in
                guard !started.withLock({ $0 }) else { return }
                var headers = HTTPHeaders(fields.map { ($0.name, $0.value) })
                headers.remove(name: "content-length")
                if chunked {
                    headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
                } else {
                    headers.remove(name: "transfer-encoding")
                }
                if !keepAlive || !chunked { headers.replaceOrAdd(name: "connection", value: "close") }
                try await outbound.write(
                    .head(HTTPResponseHead(version: version, status: .init(statusCode: status), headers: headers)))
                started.withLock { $0 = true }
            },
            write: { bytes in
                guard started.withLock({ $0 }) else { throw StreamNotStarted() }
                if !isHead { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
            })
        do {
            try await produce(writer)
        } catch {
            guard started.withLock({ $0 }) else {
                let body = Array(#"{"message":"Bad Gateway"}"#.utf8)
                try await outbound.write(
                    .head(
                        HTTPResponseHead(
                            version: version, status: .badGateway,
                            headers: ["content-type": "application/json", "content-length": String(body.count)])))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                try await outbound.write(.end(nil))
                return keepAlive
            }
            // Mid-body: the client sees the connection end before the last chunk.
            return false
        }
        if !started.withLock({ $0 }) { try await writer.head(status: 200, headers: []) }
        try await outbound.write(.end(nil))
        return keepAlive && chunked
    }
}
