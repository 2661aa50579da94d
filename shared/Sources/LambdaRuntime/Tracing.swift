import JSONCoding

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The part of an invocation's trace header (`Root=1-…;Parent=…;Sampled=1`, Lambda's
/// `Lambda-Runtime-Trace-Id`) that subsegments need; nil unless the invocation is sampled, as
/// X-Ray's SDKs decide (X-Ray Developer Guide, "Tracing header").
public struct TraceContext: Sendable, Equatable {
    public let root: String
    public let parent: String

    public init?(header: String?) {
        guard let header else { return nil }
        var root: String?
        var parent: String?
        var sampled = false
        for field in header.split(separator: ";") {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            switch pair[0].trimmingSpaces {
            case "Root": root = String(pair[1])
            case "Parent": parent = String(pair[1])
            case "Sampled": sampled = pair[1] == "1"
            default: break
            }
        }
        guard sampled, let root, let parent else { return nil }
        self.root = root
        self.parent = parent
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}

/// Sends X-Ray segment documents to the daemon Lambda runs beside the function
/// (`AWS_XRAY_DAEMON_ADDRESS`), over UDP, without ever waiting: a document the socket cannot take
/// at once is dropped (X-Ray Developer Guide, "Sending segment documents to the X-Ray daemon").
public final class Tracer: Sendable {
    private let socket: Int32
    private let address: sockaddr_in

    /// `address`: `host:port`, or X-Ray's `udp:host:port tcp:host:port` form; IPv4 literals
    /// (Lambda gives one) and `localhost`.
    public init?(address: String) {
        let udp = address.split(separator: " ").first { $0.hasPrefix("udp:") }.map { $0.dropFirst(4) }
        let hostPort = udp ?? Substring(address)
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...])
        else {
            return nil
        }
        var host = String(hostPort[..<colon])
        if host.hasPrefix("tcp:") { return nil }
        if host == "localhost" { host = "127.0.0.1" }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        // Module-qualified: the stored property `socket` hides the C function. Every send also
        // passes MSG_DONTWAIT, so the socket never blocks where SOCK_NONBLOCK is not available.
        #if canImport(Glibc)
            let fd = Glibc.socket(
                AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #elseif canImport(Musl)
            let fd = Musl.socket(AF_INET, SOCK_DGRAM, 0)
        #else
            let fd = Darwin.socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        self.socket = fd
        self.address = address
    }

    /// The tracer Lambda's environment asks for, if any.
    public static func fromEnvironment(_ environment: [String: String]) -> Tracer? {
        environment["AWS_XRAY_DAEMON_ADDRESS"].flatMap { Tracer(address: $0) }
    }

    deinit { _ = close(socket) }

    public func send(_ document: JSONValue) {
        let datagram = Array(#"{"format":"json","version":1}"#.utf8) + [UInt8(ascii: "\n")] + document.serialized()
        var address = self.address
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                datagram.withUnsafeBytes { bytes in
                    sendto(
                        socket, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), sockaddrPointer,
                        socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// An AWS call as X-Ray's SDKs record one: a subsegment in the `aws` namespace, its operation,
    /// resource, region and retries, the HTTP status, and `throttle` / `error` / `fault` flags.
    static func subsegment(for call: InvocationTelemetry.AWSCall, in trace: TraceContext, region: String?) -> JSONValue
    {
        var aws = JSONObject([("operation", .string(call.operation)), ("retries", .number(String(call.attempts - 1)))])
        if let region { aws["region"] = .string(region) }
        if let resource = call.resource {
            if call.service == "DynamoDB" {
                aws["table_name"] = .string(resource)
            } else {
                aws["resource_names"] = .array([.string(resource)])
            }
        }
        var document = JSONObject([
            ("name", .string(call.service)), ("id", .string(newID())), ("trace_id", .string(trace.root)),
            ("parent_id", .string(trace.parent)), ("type", .string("subsegment")), ("namespace", .string("aws")),
            ("start_time", .number(seconds(call.startMicroseconds))),
            ("end_time", .number(seconds(call.endMicroseconds))), ("aws", .object(aws)),
        ])
        if let status = call.status {
            document["http"] = .object(
                JSONObject([("response", .object(JSONObject([("status", .number(String(status)))])))]))
            if status == 429 { document["throttle"] = .bool(true) }
            if (400..<500).contains(status) { document["error"] = .bool(true) }
            if status >= 500 { document["fault"] = .bool(true) }
        } else {
            document["fault"] = .bool(true)
        }
        if call.throttles > 0 { document["throttle"] = .bool(true) }
        return .object(document)
    }

    /// Epoch microseconds as X-Ray's epoch seconds with six decimals.
    static func seconds(_ microseconds: Int64) -> String {
        let fraction = String(microseconds % 1_000_000)
        return "\(microseconds / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    /// 64 random bits as 16 hex digits, X-Ray's segment id.
    static func newID() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var value = UInt64.random(in: 1...UInt64.max)
        var text = [UInt8](repeating: 0, count: 16)
        for i in (0..<16).reversed() {
            text[i] = digits[Int(value & 0xf)]
            value >>= 4
        }
        return String(decoding: text, as: UTF8.self)
    }
}
