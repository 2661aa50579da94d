import JSONCoding

/// CloudWatch Embedded Metric Format: JSON lines on stdout that CloudWatch Logs turns into metrics,
/// with no agent and no call (CloudWatch User Guide, "Specification: Embedded metric format"). On when
/// the function's environment names a namespace and a service (`METRICS_NAMESPACE`,
/// `METRICS_SERVICE`: Terraform sets them unless service.json says `"metrics": false`).
///
/// Dimensions stay bounded: the service, the route template (never the raw path), the status class,
/// the AWS operation. Per invocation: `Latency` (by route) and `Requests` (by route and status
/// class); per AWS operation called, `DynamoDBLatency` and, when there were any, `DynamoDBRetries`
/// and `DynamoDBThrottles`; once per process, `ColdStart` and `InitDuration`, or `InitErrors` when
/// start-up fails.
public struct Metrics: Sendable, Equatable {
    public let namespace: String
    public let service: String

    public init(namespace: String, service: String) {
        self.namespace = namespace
        self.service = service
    }

    public init?(environment: [String: String]) {
        guard let namespace = environment["METRICS_NAMESPACE"], !namespace.isEmpty,
            let service = environment["METRICS_SERVICE"], !service.isEmpty
        else { return nil }
        self.init(namespace: namespace, service: service)
    }

    /// One metric of a line: its name, unit and values (several values of one metric in one line
    /// are allowed up to 100).
    struct Value {
        var name: String
        var unit: String
        var values: [Double]
    }

    /// The lines one finished invocation produces.
    func lines(
        for telemetry: InvocationTelemetry, latencyMilliseconds: Double, requestID: String, timestamp: Int64,
        coldStartInitMilliseconds: Double?
    ) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        let request = ("requestId", JSONValue.string(requestID))
        if let initMilliseconds = coldStartInitMilliseconds {
            lines.append(
                line(
                    timestamp, [("Service", service)],
                    [
                        Value(name: "ColdStart", unit: "Count", values: [1]),
                        Value(name: "InitDuration", unit: "Milliseconds", values: [initMilliseconds]),
                    ],
                    [request]))
        }
        let latency = Value(name: "Latency", unit: "Milliseconds", values: [latencyMilliseconds])
        if let status = telemetry.status {
            // Latency by route (percentiles cannot be merged across status classes), requests by
            // route and status class.
            lines.append(
                line(
                    timestamp,
                    [
                        ("Service", service), ("Route", telemetry.route ?? "(unmatched)"),
                        ("StatusClass", "\(status / 100)xx"),
                    ],
                    directives: [
                        (["Service", "Route"], [latency]),
                        (["Service", "Route", "StatusClass"], [Value(name: "Requests", unit: "Count", values: [1])]),
                    ], [request]))
        } else {
            lines.append(line(timestamp, [("Service", service)], [latency], [request]))
        }
        var operations: [String: [InvocationTelemetry.AWSCall]] = [:]
        for call in telemetry.calls where call.service == "DynamoDB" {
            operations[call.operation, default: []].append(call)
        }
        for (operation, calls) in operations.sorted(by: { $0.key < $1.key }) {
            var values = [
                Value(name: "DynamoDBLatency", unit: "Milliseconds", values: calls.prefix(100).map(\.milliseconds))
            ]
            let retries = calls.reduce(0) { $0 + $1.attempts - 1 }
            let throttles = calls.reduce(0) { $0 + $1.throttles }
            if retries > 0 { values.append(Value(name: "DynamoDBRetries", unit: "Count", values: [Double(retries)])) }
            if throttles > 0 {
                values.append(Value(name: "DynamoDBThrottles", unit: "Count", values: [Double(throttles)]))
            }
            lines.append(line(timestamp, [("Service", service), ("Operation", operation)], values, [request]))
        }
        return lines
    }

    /// The line a failed start-up writes before the runtime reports the init error.
    func initErrorLine(timestamp: Int64) -> [UInt8] {
        line(timestamp, [("Service", service)], [Value(name: "InitErrors", unit: "Count", values: [1])], [])
    }

    /// `{"_aws":{"Timestamp":…,"CloudWatchMetrics":[{"Namespace":…,"Dimensions":[[…]],"Metrics":[…]}]},
    /// <dimension>: "…", <metric>: value or [values], <property>: …}`
    func line(
        _ timestamp: Int64, _ dimensions: [(String, String)], _ metrics: [Value], _ properties: [(String, JSONValue)]
    ) -> [UInt8] {
        line(timestamp, dimensions, directives: [(dimensions.map(\.0), metrics)], properties)
    }

    /// A line whose directives each name their dimension keys (of `dimensions`) and metrics.
    func line(
        _ timestamp: Int64, _ dimensions: [(String, String)], directives: [(keys: [String], metrics: [Value])],
        _ properties: [(String, JSONValue)]
    ) -> [UInt8] {
        let rendered = directives.map { directive in
            JSONValue.object(
                JSONObject([
                    ("Namespace", .string(namespace)),
                    ("Dimensions", .array([.array(directive.keys.map { .string($0) })])),
                    (
                        "Metrics",
                        .array(
                            directive.metrics.map {
                                .object(JSONObject([("Name", .string($0.name)), ("Unit", .string($0.unit))]))
                            })
                    ),
                ]))
        }
        var object = JSONObject([
            (
                "_aws",
                .object(
                    JSONObject([("Timestamp", .number(String(timestamp))), ("CloudWatchMetrics", .array(rendered))]))
            )
        ])
        for (name, value) in dimensions { object[name] = .string(value) }
        for metric in directives.flatMap(\.metrics) {
            let values = metric.values.map { JSONValue.number(Self.decimal($0)) }
            object[metric.name] = values.count == 1 ? values[0] : .array(values)
        }
        for (name, value) in properties { object[name] = value }
        return JSONValue.object(object).serialized()
    }

    /// A non-negative number with three decimals, as JSON writes it (no exponent).
    static func decimal(_ value: Double) -> String {
        let thousandths = Int64((max(0, value) * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
