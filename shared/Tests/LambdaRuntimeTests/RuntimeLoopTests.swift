import HTTPAPI
import JSONCoding
import LambdaRuntime
import LambdaTesting
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real runtime loop against the Runtime API emulator over loopback.
@Suite(.serialized) struct RuntimeLoopTests {
    struct Boom: Error, CustomStringConvertible { var description: String { "boom happened" } }

    /// Starts an emulator and the loop, runs `body`, then stops both and returns how the loop ended.
    @discardableResult
    /// The margin is production's unless a test says otherwise: the deadline tests run what a
    /// deployed function runs.
    func withRuntime<H: LambdaHandler>(
        _ handler: @escaping @Sendable (Logger) async throws -> H,
        margin: Int64 = LambdaRuntime.defaultDeadlineMarginMilliseconds,
        _ body: (RuntimeAPIEmulator) async throws -> Void
    ) async throws -> LambdaRuntime.Exit {
        let emulator = try await RuntimeAPIEmulator.start()
        async let exit = serveOnThread(
            endpoint: emulator.endpoint, deadlineMarginMilliseconds: margin, makeHandler: handler)
        do {
            try await body(emulator)
        } catch {
            await emulator.stop()
            _ = await exit
            throw error
        }
        await emulator.stop()
        return await exit
    }

    static let echo = ClosureHandler { event, _ in event }

    @Test func successAndContext() async throws {
        try await withRuntime({ _ in
            ClosureHandler { _, context in
                let trace = getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) }
                return try JSON.encode([
                    "requestId": JSONValue.string(context.requestID),
                    "arn": .string(context.invokedFunctionARN),
                    "trace": .string(context.traceID ?? "-"),
                    "traceEnv": .string(trace ?? "-"),
                    "remaining": .bool(
                        context.remainingMilliseconds > 10_000 && context.remainingMilliseconds <= 30_000),
                    "clientContext": context.clientContext ?? .null,
                    "cognito": context.cognitoIdentity ?? .null,
                    "region": .string(context.region ?? "-"),
                ])
            }
        }) { emulator in
            let result = await emulator.invoke(
                Array("{}".utf8), timeoutMilliseconds: 30_000, traceID: "Root=1-abc;Parent=def;Sampled=1",
                clientContext: #"{"client":{"app_title":"demo"}}"#, cognitoIdentity: #"{"identity_id":"id-1"}"#)
            let json = try #require(result.responseJSON)
            #expect(json["requestId"]?.stringValue?.isEmpty == false)
            #expect(json["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:local")
            #expect(json["trace"] == "Root=1-abc;Parent=def;Sampled=1")
            #expect(json["traceEnv"] == "Root=1-abc;Parent=def;Sampled=1")
            #expect(json["remaining"] == true)
            #expect(json["clientContext"]?["client"]?["app_title"] == "demo")
            #expect(json["cognito"]?["identity_id"] == "id-1")
            #expect(json["region"] == "us-east-1")
        }
    }

    @Test func handlerErrorIsReportedAndTheLoopContinues() async throws {
        try await withRuntime({ _ in
            ClosureHandler { event, _ in
                if event == Array("fail".utf8) { throw Boom() }
                return event
            }
        }) { emulator in
            let failed = await emulator.invoke(Array("fail".utf8))
            guard case .error(let type, let document) = failed else {
                Issue.record("expected an error, got \(failed)")
                return
            }
            #expect(type == "Function.Boom")
            #expect(document["errorType"] == "Boom")
            #expect(document["errorMessage"] == "boom happened")
            #expect(document["stackTrace"]?.arrayValue != nil)
            #expect(await emulator.invoke(Array("ok".utf8)) == .response(Array("ok".utf8)))
        }
    }

    @Test func initErrorIsReportedAndServingStops() async throws {
        let exit = try await withRuntime({ _ -> ClosureHandler in throw Boom() }) { emulator in
            let result = await emulator.invoke(Array("{}".utf8))
            guard case .initError(let type, let document) = result else {
                Issue.record("expected an init error, got \(result)")
                return
            }
            #expect(type == "Function.Boom")
            #expect(document["errorMessage"] == "boom happened")
        }
        #expect(
            exit
                == .initFailed(
                    ErrorReport(errorType: "Boom", errorMessage: "boom happened", stackTrace: ["boom happened"])))
    }

    @Test func deadlineCancelsTheHandlerAndAnswers504() async throws {
        var router = Router()
        router.on("GET /slow") { _, _ in
            try await Task.sleep(for: .seconds(30))
            return .text("too late")
        }
        router.on("GET /fast") { _, _ in .text("fast") }
        let handler = HTTPLambdaHandler(router: router)
        try await withRuntime({ _ in handler }) { emulator in
            let slow = await emulator.invoke(try httpEvent("GET", "/slow"), timeoutMilliseconds: 1_000)
            let json = try #require(slow.responseJSON)
            #expect(json["statusCode"] == 504)
            #expect(json["headers"]?["content-type"] == "application/problem+json")
            let elapsed = try #require(await emulator.lastDuration)
            // The README promises the answer 100 ms before the deadline; 40 ms of it may go to scheduling.
            #expect(elapsed <= 940, "answered 100 ms before the deadline, not at it (took \(elapsed) ms of 1000)")
            #expect(try #require(await emulator.invoke(try httpEvent("GET", "/fast")).responseJSON)["body"] == "fast")
        }
    }

    /// At the deadline the handler's task is cancelled, not abandoned to run on (and to write)
    /// after its invocation was answered: the handler sees the cancellation.
    @Test func theDeadlineCancelsTheHandlersTask() async throws {
        let cancelled = Flag()
        try await withRuntime({ _ in
            ClosureHandler { _, _ in
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch is CancellationError {
                    cancelled.set()
                    throw CancellationError()
                }
                return []
            }
        }) { emulator in
            _ = await emulator.invoke([], timeoutMilliseconds: 400)
            // Polled: the cancellation reaches the task asynchronously, on a possibly busy machine.
            for _ in 0..<100 where !cancelled.isSet { try await Task.sleep(for: .milliseconds(50)) }
            #expect(cancelled.isSet, "the handler was still running 5 s after its deadline")
        }
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    @Test func deadlineWithoutAnHTTPAnswerIsAFunctionError() async throws {
        try await withRuntime({ _ in
            ClosureHandler { _, _ in
                try await Task.sleep(for: .seconds(30))
                return []
            }
        }) { emulator in
            let result = await emulator.invoke([], timeoutMilliseconds: 300)
            guard case .error(let type, _) = result else {
                Issue.record("expected an error, got \(result)")
                return
            }
            #expect(type == "Function.DeadlineExceeded")
        }
    }

    @Test func malformedEventIsAFunctionErrorNotACrash() async throws {
        let handler = HTTPLambdaHandler(router: Router())
        try await withRuntime({ _ in handler }) { emulator in
            for event in [
                "{not json", #"{"detail-type":"Scheduled Event"}"#, "[1,2]", String(repeating: "[", count: 10_000),
            ] {
                let result = await emulator.invoke(Array(event.utf8))
                guard case .error(let type, _) = result else {
                    Issue.record("expected an error for \(event.prefix(20)), got \(result)")
                    continue
                }
                #expect(type == "Function.EventDecodingError")
            }
            let afterwards = await emulator.invoke(try httpEvent("GET", "/x"))
            #expect(afterwards.responseJSON?["statusCode"] == 404)
        }
    }

    @Test func responsesOverSixMegabytesAreReportedAndTheLoopContinues() async throws {
        try await withRuntime({ _ in
            ClosureHandler { event, _ in
                [UInt8](repeating: UInt8(ascii: "a"), count: Int(String(decoding: event, as: UTF8.self)) ?? 0)
            }
        }) { emulator in
            let limit = LambdaRuntime.maxResponseBytes
            let atLimit = await emulator.invoke(Array(String(limit).utf8))
            guard case .response(let body) = atLimit else {
                Issue.record("a response of exactly the limit must pass")
                return
            }
            #expect(body.count == limit)
            let over = await emulator.invoke(Array(String(7 * 1024 * 1024).utf8))
            guard case .error(let type, let document) = over else {
                Issue.record("expected an error, got a response")
                return
            }
            #expect(type == "Function.ResponseSizeTooLarge")
            #expect(document["errorMessage"]?.stringValue?.contains("7340032 bytes") == true)
            #expect(await emulator.invoke(Array("3".utf8)) == .response(Array("aaa".utf8)))
        }
    }

    @Test func aThousandInvocationsLeakNoStateBetweenThem() async throws {
        try await withRuntime({ _ in
            ClosureHandler { event, context in
                let trace = getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) } ?? "none"
                return Array("\(context.requestID)|\(context.traceID ?? "none")|\(trace)|".utf8) + event
            }
        }) { emulator in
            var seen = Set<String>()
            for i in 0..<1_000 {
                let trace = i.isMultiple(of: 2) ? "Root=1-\(i)" : nil
                // A long deadline: this test is about state between invocations, not timing.
                let result = await emulator.invoke(
                    Array("event-\(i)".utf8), timeoutMilliseconds: 60_000, traceID: trace)
                guard case .response(let body) = result else {
                    Issue.record("invocation \(i): \(result)")
                    return
                }
                let parts = String(decoding: body, as: UTF8.self).split(
                    separator: "|", omittingEmptySubsequences: false)
                #expect(seen.insert(String(parts[0])).inserted, "request ids are unique")
                #expect(parts[1] == (trace.map { Substring($0) } ?? "none"))
                #expect(parts[2] == parts[1], "_X_AMZN_TRACE_ID follows each invocation, unset when absent")
                #expect(parts[3] == "event-\(i)")
            }
            // One keep-alive connection: every call is logged, none failed.
            let log = await emulator.log
            #expect(log.count == 2_000)
            #expect(log.allSatisfy { $0.hasSuffix("→ 200") || $0.hasSuffix("→ 202") })
        }
    }
}

/// A minimal HTTP API payload 2.0 event.
func httpEvent(_ method: String, _ path: String, body: String? = nil) throws -> [UInt8] {
    var event: JSONObject = [
        "version": "2.0", "routeKey": "$default", "rawPath": .string(path), "rawQueryString": "",
        "headers": ["content-type": "application/json"],
        "requestContext": [
            "http": [
                "method": .string(method), "path": .string(path), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                "userAgent": "test",
            ],
            "requestId": "r", "stage": "$default", "domainName": "localhost", "routeKey": "$default",
        ],
        "isBase64Encoded": false,
    ]
    if let body { event["body"] = .string(body) }
    return JSONValue.object(event).serialized()
}
