import Platform

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure talking to the Runtime API: the connection, or the peer's answer.
public struct RuntimeAPIError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

struct HTTPClientResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name }?.value
    }
}

/// A minimal blocking HTTP/1.1 client over one keep-alive TCP connection. The Runtime API is plain
/// HTTP on loopback, used by one thread at a time; this is all it needs, and it costs no event loop,
/// no TLS and no Foundation in every bootstrap.
final class HTTPConnection {
    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// Where `recv` writes; only the bytes received are appended to `buffer`.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)

    init(endpoint: String) throws(RuntimeAPIError) {
        guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...])
        else {
            throw RuntimeAPIError("AWS_LAMBDA_RUNTIME_API must be host:port, got '\(endpoint)'")
        }
        self.host = String(endpoint[..<colon])
        self.port = port
    }

    deinit {
        close()
        scratch.deallocate()
    }

    func close() {
        if fd >= 0 { _ = systemClose(fd) }
        fd = -1
        buffer.removeAll(keepingCapacity: true)
        bufferStart = 0
    }

    private func connect() throws(RuntimeAPIError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host == "localhost" ? "127.0.0.1" : host, String(port), &hints, &result)
        guard status == 0, let first = result else { throw RuntimeAPIError("cannot resolve \(host):\(port)") }
        defer { freeaddrinfo(result) }
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
            if s >= 0 {
                if systemConnect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    fd = s
                    return
                }
                _ = systemClose(s)
            }
            info = ai.pointee.ai_next
        }
        throw RuntimeAPIError("cannot connect to the Runtime API at \(host):\(port) (errno \(errno))")
    }

    /// Sends one request and reads the whole response. A request that fails before any byte of the
    /// response arrived on a reused connection is retried once on a fresh one (the peer may have
    /// closed the idle connection).
    func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(RuntimeAPIError) -> HTTPClientResponse {
        let reused = fd >= 0
        do {
            return try attempt(method, path, headers: headers, body: body)
        } catch {
            guard reused && error.retryable else { throw error.error }
            close()
            do { return try attempt(method, path, headers: headers, body: body) } catch { throw error.error }
        }
    }

    private struct AttemptError: Error {
        let error: RuntimeAPIError
        let retryable: Bool
    }

    private func attempt(
        _ method: String, _ path: String, headers: [(String, String)], body: [UInt8]
    ) throws(AttemptError) -> HTTPClientResponse {
        do {
            if fd < 0 { try connect() }
        } catch { throw AttemptError(error: error, retryable: false) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: swift-lambda/1.0\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        do {
            try writeAll(Array(head.utf8))
            if !body.isEmpty { try writeAll(body) }
        } catch { throw AttemptError(error: error, retryable: true) }
        let answered: Bool
        do { answered = try fill(minimum: 1) } catch { throw AttemptError(error: error, retryable: true) }
        guard answered else {
            close()
            throw AttemptError(error: RuntimeAPIError("the Runtime API closed the connection"), retryable: true)
        }
        do { return try readResponse() } catch {
            close()
            throw AttemptError(error: error, retryable: false)
        }
    }

    // A request whose body is sent as it is produced (chunked transfer coding, RFC 9112 §7.1),
    // then ended with optional trailer fields. The connection is closed after its response.

    /// Sends the request head, on a fresh connection if the peer closed the idle one: a body that
    /// is still being produced cannot be sent again, so this checks first instead of retrying.
    func beginChunked(_ method: String, _ path: String, headers: [(String, String)]) throws(RuntimeAPIError) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: swift-lambda/1.0\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Transfer-Encoding: chunked\r\n\r\n"
        if fd >= 0 && !idleConnectionIsOpen() { close() }
        if fd < 0 { try connect() }
        try writeAll(Array(head.utf8))
    }

    /// Whether the kept-alive connection can take a request: nothing to read on it (an end of
    /// stream or stray bytes mean the peer is done with it).
    private func idleConnectionIsOpen() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// One chunk, sent by `deadline` (Unix epoch milliseconds) or not at all: a send that would
    /// block past it fails, and the connection, its framing now broken, is closed.
    func writeChunk(_ bytes: [UInt8], until deadline: Int64) throws(RuntimeAPIError) {
        guard !bytes.isEmpty else { return }
        let remaining = max(1, deadline - WallClock.nowMilliseconds())
        var timeout = timeval(tv_sec: Int(remaining / 1000), tv_usec: Int(remaining % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try writeAll(Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + [13, 10])
    }

    /// Ends the body with the last chunk and `trailers`, reads the response, and closes.
    func finishChunked(trailers: [(String, String)]) throws(RuntimeAPIError) -> HTTPClientResponse {
        defer { close() }
        var end = "0\r\n"
        for (name, value) in trailers { end += "\(name): \(value)\r\n" }
        end += "\r\n"
        try writeAll(Array(end.utf8))
        guard try fill(minimum: 1) else { throw RuntimeAPIError("the Runtime API closed the connection") }
        return try readResponse()
    }

    private func writeAll(_ bytes: [UInt8]) throws(RuntimeAPIError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                close()
                throw RuntimeAPIError("write to the Runtime API failed (errno \(errno))")
            }
            offset += n
        }
    }

    /// Ensures at least `minimum` unread bytes are buffered; false on a clean end of stream.
    private func fill(minimum: Int) throws(RuntimeAPIError) -> Bool {
        while buffer.count - bufferStart < minimum {
            if bufferStart > 0 && bufferStart == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                bufferStart = 0
            }
            let n = recv(fd, scratch.baseAddress, scratch.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                close()
                throw RuntimeAPIError("read from the Runtime API failed (errno \(errno))")
            }
            if n == 0 { return false }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        }
        return true
    }

    private func readLine() throws(RuntimeAPIError) -> String {
        var searchFrom = bufferStart
        while true {
            if let end = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                var lineEnd = end
                if lineEnd > bufferStart, buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let line = String(decoding: buffer[bufferStart..<lineEnd], as: UTF8.self)
                bufferStart = end + 1
                return line
            }
            searchFrom = buffer.count
            guard try fill(minimum: buffer.count - bufferStart + 1) else {
                throw RuntimeAPIError("connection closed in the middle of a response")
            }
        }
    }

    private func readBytes(_ count: Int) throws(RuntimeAPIError) -> [UInt8] {
        guard try fill(minimum: count) else { throw RuntimeAPIError("connection closed in the middle of a body") }
        let bytes = Array(buffer[bufferStart..<bufferStart + count])
        bufferStart += count
        return bytes
    }

    private func readResponse() throws(RuntimeAPIError) -> HTTPClientResponse {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw RuntimeAPIError("malformed status line from the Runtime API: \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })))
        }
        var response = HTTPClientResponse(status: status, headers: headers, body: [])
        if response.header("transfer-encoding")?.lowercased().containsText("chunked") == true {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                    throw RuntimeAPIError("malformed chunk size from the Runtime API")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                response.body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try readBytes(length)
        }
        if response.header("connection")?.lowercased() == "close" { close() }
        return response
    }
}

// `close` and `connect` are shadowed by the methods above.
private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
        Glibc.close(fd)
    #elseif canImport(Musl)
        Musl.close(fd)
    #else
        Darwin.close(fd)
    #endif
}

private func systemConnect(_ fd: Int32, _ addr: UnsafeMutablePointer<sockaddr>!, _ len: socklen_t) -> Int32 {
    #if canImport(Glibc)
        Glibc.connect(fd, addr, len)
    #elseif canImport(Musl)
        Musl.connect(fd, addr, len)
    #else
        Darwin.connect(fd, addr, len)
    #endif
}
