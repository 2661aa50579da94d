import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the loopback server hands it to its handler: head plus the whole body.
public struct ServerRequest: Sendable {
    public var method: String
    public var uri: String
    public var version: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var remoteAddress: String?

    public init(
        method: String, uri: String, version: String = "HTTP/1.1", headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        remoteAddress: String? = nil
    ) {
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers
        self.body = body
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

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

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
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body.removeAll(keepingCapacity: true)
                    tooLarge = false
                case .body(let buffer):
                    if body.count + buffer.readableBytes > maxBodyBytes {
                        tooLarge = true
                    } else {
                        body.append(contentsOf: buffer.readableBytesView)
                    }
                case .end:
                    guard let head else { continue }
                    let request = ServerRequest(
                        method: head.method.rawValue, uri: head.uri,
                        version: "HTTP/\(head.version.major).\(head.version.minor)",
                        headers: head.headers.map { ($0.name, $0.value) }, body: body, remoteAddress: remote)
                    let response =
                        tooLarge
                        ? (tooLargeAnswer
                            ?? ServerResponse(
                                status: 413, headers: [("content-type", "application/json")],
                                body: Array(#"{"message":"Request Entity Too Large"}"#.utf8)))
                        : await handler(request)
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
}
