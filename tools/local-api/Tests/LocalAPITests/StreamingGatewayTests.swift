import Foundation
import HTTPAPI
import JSONCoding
import LambdaRuntime
import LocalAPI
import LocalGateway
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// `make run` streams routes declared `"streamed": true`: the head and each chunk reach the client
/// as the handler writes them (chunked), as API Gateway's streaming integrations and Function URLs
/// send them.
@Suite(.serialized) struct StreamingGatewayTests {
    let http = LocalAPITests()

    /// Opens once; `wait` says whether it opened within the time.
    final class Gate: Sendable {
        private let opened = Mutex(false)
        func open() { opened.withLock { $0 = true } }
        func wait(seconds: Double) async -> Bool {
            let end = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < end {
                if opened.withLock({ $0 }) { return true }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return false
        }
    }

    @Test func theFirstChunkReachesTheClientBeforeTheHandlerFinishes() async throws {
        let gate = Gate()
        var router = Router()
        router.on("GET /export") { _, _ in
            .streamed(contentType: "application/x-ndjson") { body in
                try await body.write("one\n")
                // Written only after the client has read "one": a gateway that waited for the
                // handler to finish would make this time out and write "late".
                try await body.write(await gate.wait(seconds: 10) ? "two\n" : "late\n")
            }
        }
        let declaration = try JSON.decodeStrict(
            ServiceDeclaration.self,
            from: try JSONValue.parse(
                Array(
                    #"{"name":"export","function":{"memory":128,"timeout":10,"architecture":"x86_64"},"routes":{"GET /export":{"streamed":true}}}"#
                        .utf8)))
        let gateway = try LocalGateway(
            services: [
                .init(
                    declaration: declaration,
                    handler: HTTPLambdaHandler(router: router, streamingRoutes: ["GET /export"]))
            ])
        let port = try await gateway.start(port: 0)
        let client = try RawClient(port: port)
        do {
            try await client.send("GET /export HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
            let first = try await client.read(until: "one\n")
            #expect(first.hasPrefix("HTTP/1.1 200"))
            #expect(first.lowercased().contains("transfer-encoding: chunked"))
            #expect(first.lowercased().contains("content-type: application/x-ndjson"))
            gate.open()
            let rest = try await client.readToEnd()
            #expect(rest.contains("two\n") && !rest.contains("late"))
        } catch {
            client.close()
            await gateway.stop()
            throw error
        }
        client.close()
        await gateway.stop()
    }

    /// A gateway serving one streamed route with `handler`, under a function timeout of `timeout` s.
    func streamingGateway(timeout: Int = 10, _ handler: any LambdaHandler) async throws -> (LocalGateway, Int) {
        let declaration = try JSON.decodeStrict(
            ServiceDeclaration.self,
            from: try JSONValue.parse(
                Array(
                    #"{"name":"export","function":{"memory":128,"timeout":\#(timeout),"architecture":"x86_64"},"routes":{"GET /export":{"authorization":"NONE","public":true,"streamed":true}}}"#
                        .utf8)))
        let gateway = try LocalGateway(services: [.init(declaration: declaration, handler: handler)])
        return (gateway, try await gateway.start(port: 0))
    }

    static func export(_ body: @escaping @Sendable (HTTPBodySink) async throws -> Void) -> HTTPLambdaHandler {
        var router = Router()
        router.on("GET /export") { _, _ in .streamed(contentType: "application/x-ndjson", body) }
        return HTTPLambdaHandler(router: router, streamingRoutes: ["GET /export"])
    }

    /// HTTP/1.0 has no chunked encoding (RFC 9112 §7.1): such a client gets the body as it is,
    /// ended by the connection's close.
    @Test func anHTTP10ClientGetsACloseDelimitedBody() async throws {
        let (gateway, port) = try await streamingGateway(
            Self.export { body in
                try await body.write("one\n")
                try await body.write("two\n")
            })
        let client = try RawClient(port: port)
        try await client.send("GET /export HTTP/1.0\r\nHost: local\r\n\r\n")
        let answer = try await client.readToEnd()
        client.close()
        await gateway.stop()
        #expect(answer.hasPrefix("HTTP/1.0 200"))
        #expect(!answer.lowercased().contains("transfer-encoding"))
        #expect(answer.hasSuffix("\r\n\r\none\ntwo\n"), "\(answer)")
    }

    /// Lambda ends a stream at the function's timeout; so does `make run`: the client sees the body
    /// end early instead of waiting on a handler that never finishes.
    @Test func aStreamIsCutAtTheFunctionsTimeout() async throws {
        let (gateway, port) = try await streamingGateway(
            timeout: 1,
            Self.export { body in
                try await body.write("one\n")
                try await Task.sleep(for: .seconds(30))
                try await body.write("two\n")
            })
        let client = try RawClient(port: port)
        let started = ContinuousClock.now
        try await client.send("GET /export HTTP/1.1\r\nHost: local\r\n\r\n")
        let answer = try await client.readToEnd()
        client.close()
        await gateway.stop()
        #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains("one\n") && !answer.contains("two"))
        #expect(started.duration(to: .now) < .seconds(15), "cut at the timeout, not after the handler's 30 s")
        #expect(!answer.hasSuffix("0\r\n\r\n"), "no last chunk: the client can tell the body was cut")
    }

    struct RawStream: LambdaHandler {
        let bytes: [UInt8]
        func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] { [] }
        func respond(to event: [UInt8], context: LambdaContext) async throws -> LambdaResponse {
            .streamed(contentType: HTTPResponse.streamingContentType) { [bytes] writer in try await writer.write(bytes)
            }
        }
    }

    /// A stream that ends before its prelude is an answer of the wrong shape: a 502.
    @Test func aStreamWithoutItsPreludeIsA502() async throws {
        let (gateway, port) = try await streamingGateway(RawStream(bytes: Array("no prelude".utf8)))
        let client = try RawClient(port: port)
        try await client.send("GET /export HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
        let answer = try await client.readToEnd()
        client.close()
        await gateway.stop()
        #expect(answer.hasPrefix("HTTP/1.1 502"), "\(answer)")
    }

    @Test func itemsExportIsTheCallersItemsAsNDJSON() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try LocalAPITests.authorizer())
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            let ada = ["authorization": try LocalAPITests.bearer("ada")]
            for title in ["one", "two", "three"] {
                #expect(
                    try await http.send("POST", "\(base)/items", #"{"title":"\#(title)"}"#, headers: ada).status == 201)
            }
            let (status, contentType, lines) = try await export("\(base)/items/export", headers: ada)
            #expect(status == 200 && contentType == "application/x-ndjson")
            #expect(lines.compactMap { $0["title"]?.stringValue }.sorted() == ["one", "three", "two"])
            #expect(lines.allSatisfy { $0["owner"] == "ada" })
            // Another caller's export holds none of them; reading ada's takes items.admin.
            let mallory = ["authorization": try LocalAPITests.bearer("mallory")]
            #expect(try await export("\(base)/items/export", headers: mallory).lines.isEmpty)
            #expect(try await http.send("GET", "\(base)/items/export?owner=ada", headers: mallory).status == 403)
            #expect(try await http.send("GET", "\(base)/items/export?status=lost", headers: ada).status == 400)
            #expect(try await http.send("GET", "\(base)/items/export").status == 401)
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    func export(_ url: String, headers: [String: String]) async throws -> (
        status: Int, contentType: String?, lines: [JSONValue]
    ) {
        var request = URLRequest(url: URL(string: url)!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        let lines = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONValue.parse(Array($0.utf8))
        }
        return (http.statusCode, http.value(forHTTPHeaderField: "content-type"), lines)
    }
}

/// A blocking HTTP/1.1 client on its own thread, so a test can read a response chunk by chunk.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    private var received = ""

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { _ = Glibc.close(fd) }

    func send(_ text: String) async throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw POSIXError(.EPIPE)
        }
    }

    /// Everything received until `marker` appears (or the peer closes, or 20 s pass).
    func read(until marker: String?) async throws -> String {
        await withCheckedContinuation { continuation in
            Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while marker.map({ !self.received.contains($0) }) ?? true {
                    let n = recv(self.fd, &buffer, buffer.count, 0)
                    if n <= 0 { break }
                    self.received += String(decoding: buffer[0..<n], as: UTF8.self)
                }
                continuation.resume(returning: self.received)
            }.start()
        }
    }

    func readToEnd() async throws -> String { try await read(until: nil) }
}
