import HTTPAPI
import JSONCoding
import LambdaRuntime
import LambdaTesting
import Logging
import Platform
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The runtime's metrics (CloudWatch Embedded Metric Format lines) and traces (X-Ray subsegments
/// over UDP), from the real loop against the Runtime API emulator.
@Suite(.serialized, .timeLimit(.minutes(1))) struct TelemetryTests {
    static let metrics = Metrics(namespace: "swiftapi/staging", service: "users")

    /// An HTTP service whose route makes one DynamoDB-like call that was throttled once.
    static func service() -> HTTPLambdaHandler {
        var router = Router()
        router.on("GET /users/{id}") { _, context in
            context.telemetry.record(
                .init(
                    service: "DynamoDB", operation: "GetItem", resource: "swiftapi-staging-users",
                    startMicroseconds: WallClock.nowMicroseconds() - 2_500,
                    endMicroseconds: WallClock.nowMicroseconds(),
                    attempts: 2, throttles: 1))
            return .text("ok")
        }
        return HTTPLambdaHandler(router: router)
    }

    static func event(path: String) -> [UInt8] {
        Array(
            #"{"version":"2.0","routeKey":"$default","rawPath":"\#(path)","rawQueryString":"","headers":{},"requestContext":{"http":{"method":"GET","path":"\#(path)"},"requestId":"r","stage":"$default"},"isBase64Encoded":false}"#
                .utf8)
    }

    /// Runs the loop with this telemetry until `body` is done and the runtime has asked for the
    /// next event: its lines for the last answer, written after the answer is posted, are in.
    /// (Stopping the emulator as soon as an answer arrives could close the connection before the
    /// runtime reads the 202, and the runtime would exit without writing them.)
    func withRuntime(
        telemetry: RuntimeTelemetry, _ body: (RuntimeAPIEmulator) async throws -> Void
    ) async throws {
        let makeHandler: @Sendable (Logger) async throws -> HTTPLambdaHandler = { _ in Self.service() }
        let emulator = try await RuntimeAPIEmulator.start()
        async let exit = serveOnThread(endpoint: emulator.endpoint, telemetry: telemetry, makeHandler: makeHandler)
        do { try await body(emulator) } catch {
            await emulator.stop()
            _ = await exit
            throw error
        }
        await emulator.waitUntilIdle()
        await emulator.stop()
        _ = await exit
    }

    func lines(_ output: LogOutput) throws -> [JSONValue] {
        try output.lines.map { try JSONValue.parse(Array($0.utf8)) }
    }

    @Test func everyLineFollowsTheEmbeddedMetricFormat() async throws {
        let output = LogOutput.capturing()
        try await withRuntime(telemetry: RuntimeTelemetry(metrics: Self.metrics, output: output)) { emulator in
            _ = await emulator.invoke(Self.event(path: "/users/ada"))
            _ = await emulator.invoke(Self.event(path: "/nothing/here"))
        }
        let lines = try lines(output)
        #expect(lines.count == 4, "cold start, route and DynamoDB lines, then the unmatched request's route line")
        for line in lines { EMF.check(line) }

        let cold = lines.filter { $0["ColdStart"] != nil }
        #expect(cold.count == 1, "a cold start is reported once per process")
        #expect((cold.first?["InitDuration"]?.numberValue ?? -1) >= 0)
        #expect(cold.first?["Service"] == "users")

        let route = try #require(lines.first { $0["Route"] == "GET /users/{id}" })
        #expect(route["StatusClass"] == "2xx")
        #expect(route["Latency"]?.numberValue != nil)
        #expect(EMF.dimensions(route) == [["Service", "Route"], ["Service", "Route", "StatusClass"]])
        #expect(route["Requests"]?.numberValue == 1)
        let unmatched = try #require(lines.first { $0["Route"] == "(unmatched)" })
        #expect(unmatched["StatusClass"] == "4xx", "a 404 carries no raw path, only the unmatched marker")
        #expect(!lines.contains { ($0["Route"]?.stringValue ?? "").contains("ada") }, "never the raw path")

        let dynamo = try #require(lines.first { $0["Operation"] == "GetItem" })
        #expect(EMF.dimensions(dynamo) == [["Service", "Operation"]])
        #expect(dynamo["DynamoDBRetries"]?.numberValue == 1)
        #expect(dynamo["DynamoDBThrottles"]?.numberValue == 1)
        #expect((dynamo["DynamoDBLatency"]?.numberValue ?? 0) >= 2)
    }

    @Test func noMetricsWithoutANamespace() async throws {
        #expect(Metrics(environment: ["METRICS_SERVICE": "users"]) == nil)
        #expect(Metrics(environment: ["METRICS_NAMESPACE": "swiftapi/staging"]) == nil)
        #expect(
            Metrics(environment: ["METRICS_NAMESPACE": "n", "METRICS_SERVICE": "s"])
                == Metrics(namespace: "n", service: "s"))
        let output = LogOutput.capturing()
        try await withRuntime(telemetry: RuntimeTelemetry(metrics: nil, output: output)) {
            emulator in
            _ = await emulator.invoke(Self.event(path: "/users/ada"))
        }
        // withRuntime returns once the runtime loop has exited: everything it would write is written.
        #expect(output.lines.isEmpty)
    }

    @Test func aFailedStartUpReportsAnInitError() async throws {
        struct Broken: Error {}
        let output = LogOutput.capturing()
        let emulator = try await RuntimeAPIEmulator.start()
        let exit = await serveOnThread(
            endpoint: emulator.endpoint, telemetry: RuntimeTelemetry(metrics: Self.metrics, output: output)
        ) { _ -> HTTPLambdaHandler in throw Broken() }
        await emulator.stop()
        guard case .initFailed = exit else {
            Issue.record("expected an init failure, got \(exit)")
            return
        }
        let lines = try output.lines.map { try JSONValue.parse(Array($0.utf8)) }
        #expect(lines.count == 1)
        for line in lines { EMF.check(line) }
        #expect(lines.first?["InitErrors"]?.numberValue == 1)
    }

    @Test func sampledInvocationsSendEachAWSCallAsASubsegment() async throws {
        let daemon = try UDPListener()
        let tracer = try #require(Tracer(address: "127.0.0.1:\(daemon.port)"))
        try await withRuntime(telemetry: RuntimeTelemetry(tracer: tracer, region: "eu-west-1")) { emulator in
            _ = await emulator.invoke(
                Self.event(path: "/users/ada"),
                traceID: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
            _ = await emulator.invoke(
                Self.event(path: "/users/ada"),
                traceID: "Root=1-5759e988-bd862e3fe1be46a994272794;Parent=53995c3f42cd8ad9;Sampled=0")
        }
        let datagram = try #require(daemon.receive(timeoutMilliseconds: 2000))
        let parts = datagram.split(separator: UInt8(ascii: "\n"), maxSplits: 1)
        #expect(String(decoding: parts[0], as: UTF8.self) == #"{"format":"json","version":1}"#)
        let segment = try JSONValue.parse(Array(parts[1]))
        // X-Ray Developer Guide, "AWS X-Ray segment documents": an independent subsegment names its
        // trace and parent; ids are 16 hex digits; times are epoch seconds.
        #expect(segment["type"] == "subsegment")
        #expect(segment["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793")
        #expect(segment["parent_id"] == "53995c3f42cd8ad8")
        #expect(segment["name"] == "DynamoDB")
        #expect(segment["namespace"] == "aws")
        let id = try #require(segment["id"]?.stringValue)
        #expect(id.count == 16 && id.allSatisfy { $0.isHexDigit })
        let start = try #require(segment["start_time"]?.numberValue)
        let end = try #require(segment["end_time"]?.numberValue)
        #expect(start > 1.7e9 && end >= start)
        #expect(segment["aws"]?["operation"] == "GetItem")
        #expect(segment["aws"]?["table_name"] == "swiftapi-staging-users")
        #expect(segment["aws"]?["region"] == "eu-west-1")
        #expect(segment["aws"]?["retries"]?.numberValue == 1)
        #expect(segment["throttle"] == true)
        #expect(daemon.receive(timeoutMilliseconds: 200) == nil, "an unsampled invocation sends nothing")
    }

    @Test func traceHeaders() {
        #expect(TraceContext(header: "Root=1-a-b;Parent=c;Sampled=1") != nil)
        #expect(TraceContext(header: "Root=1-a-b;Parent=c;Sampled=0") == nil)
        #expect(TraceContext(header: "Root=1-a-b;Sampled=1") == nil, "no parent to attach to")
        #expect(TraceContext(header: nil) == nil)
        #expect(Tracer(address: "tcp:127.0.0.1:2000 udp:127.0.0.2:2001") != nil)
        #expect(Tracer(address: "not an address") == nil)
    }
}

/// The Embedded Metric Format's rules (CloudWatch User Guide, "Specification: Embedded metric
/// format"), checked on a parsed line.
enum EMF {
    static func check(_ line: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let metadata = line["_aws"] else {
            Issue.record("no _aws member", sourceLocation: sourceLocation)
            return
        }
        #expect(
            metadata["Timestamp"]?.numberValue.map { $0 > 1.7e12 } == true, "Timestamp: epoch milliseconds",
            sourceLocation: sourceLocation)
        let directives = metadata["CloudWatchMetrics"]?.arrayValue ?? []
        #expect(!directives.isEmpty, sourceLocation: sourceLocation)
        for directive in directives {
            let namespace = directive["Namespace"]?.stringValue ?? ""
            #expect(!namespace.isEmpty && namespace.utf8.count <= 1024, sourceLocation: sourceLocation)
            let sets = directive["Dimensions"]?.arrayValue ?? []
            #expect(sets.count <= 1 || !sets.isEmpty, sourceLocation: sourceLocation)
            for set in sets {
                let names = set.arrayValue ?? []
                #expect(names.count <= 30, "at most 30 dimensions in a set", sourceLocation: sourceLocation)
                for name in names {
                    let key = name.stringValue ?? ""
                    #expect(
                        line[key]?.stringValue != nil, "dimension \(key) is a top-level string",
                        sourceLocation: sourceLocation)
                }
            }
            let metrics = directive["Metrics"]?.arrayValue ?? []
            #expect(!metrics.isEmpty && metrics.count <= 100, sourceLocation: sourceLocation)
            for metric in metrics {
                let name = metric["Name"]?.stringValue ?? ""
                #expect(!name.isEmpty, sourceLocation: sourceLocation)
                if let unit = metric["Unit"]?.stringValue {
                    #expect(
                        ["Milliseconds", "Count", "Seconds", "Bytes", "None"].contains(unit),
                        sourceLocation: sourceLocation)
                }
                switch line[name] {
                case .number?: break
                case .array(let values)?:
                    #expect(
                        !values.isEmpty && values.count <= 100 && values.allSatisfy { $0.numberValue != nil },
                        sourceLocation: sourceLocation)
                default: Issue.record("metric \(name) has no top-level numeric value", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// Every directive's dimension sets, in order.
    static func dimensions(_ line: JSONValue) -> [[String]] {
        (line["_aws"]?["CloudWatchMetrics"]?.arrayValue ?? []).flatMap {
            ($0["Dimensions"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.stringValue) }
        }
    }
}

extension JSONValue {
    fileprivate var numberValue: Double? {
        if case .number(let text) = self { return Double(text) }
        return nil
    }
}

struct BindError: Error {}

/// A UDP socket on 127.0.0.1 standing in for the X-Ray daemon.
final class UDPListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw BindError()
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    func receive(timeoutMilliseconds: Int) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeoutMilliseconds)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? Array(buffer[0..<n]) : nil
    }
}
