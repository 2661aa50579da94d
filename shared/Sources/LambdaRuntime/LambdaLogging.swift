import JSONCoding
import Logging
import Platform
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go: a buffered writer flushed after every invocation and on shutdown, so a
/// frozen or terminated sandbox never loses the lines of the invocation it served.
public final class LogOutput: Sendable {
    public static let standardOutput = LogOutput(fd: 1)

    private struct Buffer {
        var pending: [UInt8] = []
        var captured: [String] = []
    }

    private let fd: Int32
    private let buffer = Mutex(Buffer())

    public init(fd: Int32) { self.fd = fd }

    /// An output that keeps its lines in memory, for tests.
    public static func capturing() -> LogOutput { LogOutput(fd: -1) }

    /// The lines written so far to a capturing output.
    public var lines: [String] { buffer.withLock { $0.captured } }

    public func write(line: [UInt8]) {
        buffer.withLock { buffer in
            if fd < 0 {
                buffer.captured.append(String(decoding: line, as: UTF8.self))
                return
            }
            buffer.pending.append(contentsOf: line)
            buffer.pending.append(UInt8(ascii: "\n"))
            if buffer.pending.count > 64 * 1024 { Self.drain(&buffer.pending, to: fd) }
        }
    }

    public func flush() { buffer.withLock { Self.drain(&$0.pending, to: fd) } }

    private static func drain(_ pending: inout [UInt8], to fd: Int32) {
        guard fd >= 0 else { return }
        var offset = 0
        while offset < pending.count {
            let n = pending.withUnsafeBytes { raw in
                #if canImport(Glibc)
                    Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #elseif canImport(Musl)
                    Musl.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #else
                    Darwin.write(fd, raw.baseAddress! + offset, raw.count - offset)
                #endif
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            offset += n
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Log format and level, as Lambda's advanced logging controls set them.
public struct LogConfiguration: Sendable, Equatable {
    public enum Format: Sendable, Equatable { case text, json }
    public var format: Format
    public var level: Logger.Level

    public init(format: Format, level: Logger.Level) {
        self.format = format
        self.level = level
    }

    /// `AWS_LAMBDA_LOG_FORMAT=JSON` selects JSON; the level comes from `AWS_LAMBDA_LOG_LEVEL`, then
    /// `LOG_LEVEL`, in AWS's names (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) or swift-log's.
    public init(environment: [String: String]) {
        format = environment["AWS_LAMBDA_LOG_FORMAT"]?.uppercased() == "JSON" ? .json : .text
        let name = environment["AWS_LAMBDA_LOG_LEVEL"] ?? environment["LOG_LEVEL"] ?? "INFO"
        level = LogConfiguration.level(named: name) ?? .info
    }

    public static func level(named name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "TRACE": .trace
        case "DEBUG": .debug
        case "INFO": .info
        case "NOTICE": .notice
        case "WARN", "WARNING": .warning
        case "ERROR": .error
        case "FATAL", "CRITICAL": .critical
        default: nil
        }
    }

    /// The level names AWS uses in its own JSON log lines.
    static func awsName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARN"
        case .error: "ERROR"
        case .critical: "FATAL"
        }
    }
}

/// A swift-log handler writing Lambda's JSON or text log lines.
public struct LambdaLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: LogConfiguration.Format
    let output: LogOutput

    public init(label: String, configuration: LogConfiguration, output: LogOutput = .standardOutput) {
        self.label = label
        self.logLevel = configuration.level
        self.format = configuration.format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let timestamp = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        let level = LogConfiguration.awsName(event.level)
        switch format {
        case .json:
            var object = JSONObject([
                ("timestamp", .string(timestamp)), ("level", .string(level)),
                ("message", .string(event.message.description)), ("logger", .string(label)),
            ])
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { object[key] = Self.json(value) }
            output.write(line: JSONValue.object(object).serialized())
        case .text:
            var line = "\(timestamp)\t\(merged["requestId"].map { "\($0)" } ?? "-")\t\(level)\t\(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) where key != "requestId" {
                line += " \(key)=\(value)"
            }
            output.write(line: Array(line.utf8))
        }
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let a): .array(a.map(json))
        case .dictionary(let d): .object(JSONObject(d.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
