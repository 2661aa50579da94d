import JSONCoding
import Synchronization

/// What one invocation did beyond its answer: the route and status it served (HTTP services) and
/// the AWS calls it made. Handlers and clients record into `LambdaContext.current?.telemetry`; the
/// runtime turns the record into metric lines when the invocation ends (`Metrics`), and each call
/// into an X-Ray subsegment as soon as it ends (`Tracer`). Recording never fails or waits.
public final class InvocationTelemetry: Sendable {
    /// One logical call to an AWS service, retries included.
    public struct AWSCall: Sendable, Equatable {
        /// The service as X-Ray names it: `DynamoDB`, `SecretsManager`.
        public var service: String
        public var operation: String
        /// The table (DynamoDB, single-table operations) or other resource the call names.
        public var resource: String?
        /// Wall clock, Unix epoch microseconds.
        public var startMicroseconds: Int64
        public var endMicroseconds: Int64
        /// Attempts made (1 + retries) and how many of them were throttled.
        public var attempts: Int
        public var throttles: Int
        /// The last answer's HTTP status; nil when no answer came (a transport failure).
        public var status: Int?
        /// The service's error type when the call failed.
        public var errorType: String?

        public init(
            service: String, operation: String, resource: String? = nil, startMicroseconds: Int64,
            endMicroseconds: Int64, attempts: Int = 1, throttles: Int = 0, status: Int? = 200, errorType: String? = nil
        ) {
            self.service = service
            self.operation = operation
            self.resource = resource
            self.startMicroseconds = startMicroseconds
            self.endMicroseconds = endMicroseconds
            self.attempts = attempts
            self.throttles = throttles
            self.status = status
            self.errorType = errorType
        }

        public var milliseconds: Double { Double(endMicroseconds - startMicroseconds) / 1000 }
    }

    struct State {
        var route: String?
        var status: Int?
        var calls: [AWSCall] = []
    }

    private let state = Mutex(State())
    let trace: TraceContext?
    let tracer: Tracer?
    let region: String?

    /// `trace`: the invocation's sampled trace, which calls become subsegments of (when `tracer` is set).
    public init(trace: TraceContext? = nil, tracer: Tracer? = nil, region: String? = nil) {
        self.trace = trace
        self.tracer = tracer
        self.region = region
    }

    /// The route template that served the request (`GET /users/{id}`), never the raw path.
    public func recordRoute(_ key: String) { state.withLock { $0.route = key } }
    public func recordStatus(_ status: Int) { state.withLock { $0.status = status } }

    public func record(_ call: AWSCall) {
        state.withLock { $0.calls.append(call) }
        if let trace, let tracer { tracer.send(Tracer.subsegment(for: call, in: trace, region: region)) }
    }

    public var route: String? { state.withLock { $0.route } }
    public var status: Int? { state.withLock { $0.status } }
    public var calls: [AWSCall] { state.withLock { $0.calls } }
}

/// The process's telemetry, from Lambda's environment: whether metric lines are written (and
/// where), the X-Ray daemon, the region.
public struct RuntimeTelemetry: Sendable {
    public var metrics: Metrics?
    public var tracer: Tracer?
    public var region: String?
    public var output: LogOutput

    public init(
        metrics: Metrics? = nil, tracer: Tracer? = nil, region: String? = nil, output: LogOutput = .standardOutput
    ) {
        self.metrics = metrics
        self.tracer = tracer
        self.region = region
        self.output = output
    }

    public init(environment: [String: String], output: LogOutput = .standardOutput) {
        self.init(
            metrics: Metrics(environment: environment), tracer: Tracer.fromEnvironment(environment),
            region: environment["AWS_REGION"], output: output)
    }

    func invocation(traceHeader: String?) -> InvocationTelemetry {
        InvocationTelemetry(
            trace: tracer == nil ? nil : TraceContext(header: traceHeader), tracer: tracer, region: region)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
