import Dispatch
import JSONCoding
import Logging
import Platform

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The runtime loop: `next` → handler → `response` / `error`, forever, on one connection.
public enum LambdaRuntime {
    /// Lambda's synchronous response limit, as the Runtime API enforces it (6 MiB + 100 bytes).
    public static let maxResponseBytes = 6 * 1024 * 1024 + 100
    /// How long before the deadline a running handler is cancelled, leaving time to answer.
    public static let defaultDeadlineMarginMilliseconds: Int64 = 100

    /// How a `serve` call ended.
    public enum Exit: Sendable, Equatable {
        /// The start-up closure threw; `/init/error` was posted.
        case initFailed(ErrorReport)
        /// The Runtime API failed or went away.
        case runtimeAPIFailed(String)
        /// `maxInvocations` were served.
        case completed(invocations: Int)
    }

    /// The entry point of a `bootstrap`: configures logging from Lambda's environment, handles
    /// SIGTERM, runs the loop, and exits non-zero when start-up or the Runtime API fails.
    public static func run<Handler: LambdaHandler>(
        _ makeHandler: @escaping @Sendable (Logger) async throws -> Handler
    ) -> Never {
        let started = ContinuousClock.now
        let environment = ProcessEnvironment.current()
        let configuration = LogConfiguration(environment: environment)
        LoggingSystem.bootstrap { LambdaLogHandler(label: $0, configuration: configuration) }
        let logger = Logger(label: environment["AWS_LAMBDA_FUNCTION_NAME"] ?? "lambda")
        installTerminationHandler(logger: logger)
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"] else {
            logger.critical("AWS_LAMBDA_RUNTIME_API is not set: run this bootstrap under Lambda or `make invoke`")
            LogOutput.standardOutput.flush()
            exit(1)
        }
        let outcome = serve(
            endpoint: endpoint, logger: logger, telemetry: RuntimeTelemetry(environment: environment), started: started,
            makeHandler: makeHandler)
        LogOutput.standardOutput.flush()
        switch outcome {
        case .initFailed, .runtimeAPIFailed: exit(1)
        case .completed: exit(0)
        }
    }

    /// Runs the loop on the calling thread, which it blocks; handlers run on the concurrency pool.
    /// `started`: when the process started, for the cold-start metric's init duration.
    public static func serve<Handler: LambdaHandler>(
        endpoint: String, logger: Logger,
        deadlineMarginMilliseconds: Int64 = defaultDeadlineMarginMilliseconds,
        maxInvocations: Int? = nil, telemetry: RuntimeTelemetry = RuntimeTelemetry(),
        started: ContinuousClock.Instant = .now,
        makeHandler: @escaping @Sendable (Logger) async throws -> Handler
    ) -> Exit {
        let client: RuntimeAPIClient
        do { client = try RuntimeAPIClient(endpoint: endpoint) } catch { return .runtimeAPIFailed(error.description) }

        let handler: Handler
        switch blockingAwait(until: nil, { try await makeHandler(logger) }) {
        case .success(let h): handler = h
        case .failure(let error), .timedOut(let error):
            let report = ErrorReport(error)
            logger.critical("start-up failed: \(report.errorType): \(report.errorMessage)")
            if let metrics = telemetry.metrics {
                telemetry.output.write(line: metrics.initErrorLine(timestamp: WallClock.nowMilliseconds()))
                telemetry.output.flush()
            }
            _ = try? client.reportInitError(report)
            return .initFailed(report)
        }

        let initMilliseconds = milliseconds(started.duration(to: .now))
        var served = 0
        while maxInvocations.map({ served < $0 }) ?? true {
            do {
                let invocation = try client.next()
                try handle(
                    invocation, with: handler, client: client, logger: logger, margin: deadlineMarginMilliseconds,
                    telemetry: telemetry, coldStartInitMilliseconds: served == 0 ? initMilliseconds : nil)
                served += 1
            } catch {
                logger.critical("Runtime API failure, exiting: \(error)")
                return .runtimeAPIFailed(error.description)
            }
            LogOutput.standardOutput.flush()
        }
        return .completed(invocations: served)
    }

    static func handle<Handler: LambdaHandler>(
        _ invocation: Invocation, with handler: Handler, client: RuntimeAPIClient, logger: Logger, margin: Int64,
        telemetry: RuntimeTelemetry = RuntimeTelemetry(), coldStartInitMilliseconds: Double? = nil
    ) throws(RuntimeAPIError) {
        if let traceID = invocation.traceID {
            setenv("_X_AMZN_TRACE_ID", traceID, 1)
        } else {
            unsetenv("_X_AMZN_TRACE_ID")
        }
        let context = LambdaContext(
            requestID: invocation.requestID, deadlineMilliseconds: invocation.deadlineMilliseconds,
            invokedFunctionARN: invocation.invokedFunctionARN, traceID: invocation.traceID,
            clientContext: invocation.clientContext, cognitoIdentity: invocation.cognitoIdentity,
            tenantID: invocation.tenantID, logger: logger,
            telemetry: telemetry.invocation(traceHeader: invocation.traceID))
        let event = invocation.event
        let began = ContinuousClock.now
        let deadline = invocation.deadlineMilliseconds - margin
        let outcome = blockingAwait(until: deadline) {
            try await LambdaContext.$current.withValue(context) {
                try await handler.respond(to: event, context: context)
            }
        }
        var handled = ContinuousClock.now
        let posted: PostOutcome
        switch outcome {
        case .success(.streamed(let contentType, let body)):
            posted = try stream(
                body, contentType: contentType, invocation: invocation, context: context, client: client,
                deadline: deadline, margin: margin)
            handled = .now
        case .success(.buffered(let body)) where body.count > maxResponseBytes:
            let report = ErrorReport(
                errorType: "ResponseSizeTooLarge",
                errorMessage:
                    "Response payload size (\(body.count) bytes) exceeded maximum allowed payload size (\(maxResponseBytes) bytes)."
            )
            context.logger.error("\(report.errorMessage)")
            posted = try client.reportError(requestID: invocation.requestID, report)
        case .success(.buffered(let body)):
            posted = try client.respond(requestID: invocation.requestID, body: body)
        case .failure(let error):
            let report = ErrorReport(error)
            context.logger.error("handler failed: \(report.errorType): \(report.errorMessage)")
            posted = try client.reportError(requestID: invocation.requestID, report)
        case .timedOut:
            context.logger.error("handler cancelled \(margin) ms before the deadline")
            if let answer = handler.timeoutResponse(for: event, context: context) {
                posted = try client.respond(requestID: invocation.requestID, body: answer)
            } else {
                posted = try client.reportError(
                    requestID: invocation.requestID,
                    ErrorReport(
                        errorType: "DeadlineExceeded",
                        errorMessage: "The handler was cancelled \(margin) ms before the function's deadline."))
            }
        }
        // The handler's time, and a stream's until its end; not the post of a buffered answer.
        let latency = milliseconds(began.duration(to: handled))
        switch posted {
        case .accepted: break
        case .tooLarge: context.logger.error("the Runtime API rejected the response as too large")
        case .rejected(let status, let body):
            context.logger.error("the Runtime API rejected the answer (\(status)): \(body)")
        }
        // After the answer is posted: metrics never delay a response.
        if let metrics = telemetry.metrics {
            for line in metrics.lines(
                for: context.telemetry, latencyMilliseconds: latency, requestID: invocation.requestID,
                timestamp: WallClock.nowMilliseconds(), coldStartInitMilliseconds: coldStartInitMilliseconds)
            {
                telemetry.output.write(line: line)
            }
        }
    }

    /// Sends a streamed response as its producer writes it, on this thread (which owns the
    /// connection). The request starts with the first chunk, so a producer that fails before
    /// writing anything is reported on `/error` as a buffered handler's would be; after that, an
    /// error or the deadline ends the stream with the error trailers. Sends never outlast the
    /// deadline: chunks go out in pieces of at most 64 KB with a send timeout of the time left
    /// (past 6 MB Lambda paces a stream at about 2 MB/s). A producer cut off is cancelled, not
    /// awaited: its pending and later writes throw, and it ends at its next suspension.
    static func stream(
        _ body: @escaping @Sendable (LambdaResponseWriter) async throws -> Void, contentType: String,
        invocation: Invocation, context: LambdaContext, client: RuntimeAPIClient, deadline: Int64, margin: Int64
    ) throws(RuntimeAPIError) -> PostOutcome {
        let channel = StreamChannel()
        let writer = LambdaResponseWriter { try await channel.send($0) }
        let producer = Task.detached {
            do {
                try await LambdaContext.$current.withValue(context) { try await body(writer) }
                channel.finish(nil)
            } catch {
                channel.finish(error)
            }
        }
        // However the stream ends, a write still pending (or made later) does not wait forever.
        defer { channel.close(ResponseStreamClosed(description: "the response has ended")) }
        var started = false
        func start() throws(RuntimeAPIError) {
            if !started { try client.beginStream(requestID: invocation.requestID, contentType: contentType) }
            started = true
        }
        func cut() throws(RuntimeAPIError) -> PostOutcome {
            producer.cancel()
            channel.close(ResponseStreamClosed(description: "the deadline passed while the response streamed"))
            let report = ErrorReport(
                errorType: "DeadlineExceeded",
                errorMessage: "The response stream was cut \(margin) ms before the function's deadline.")
            context.logger.error("\(report.errorMessage)")
            return started
                ? try client.endStream(error: report) : try client.reportError(requestID: invocation.requestID, report)
        }
        while true {
            guard let message = channel.next(until: deadline) else { return try cut() }
            switch message {
            case .chunk(let bytes):
                do {
                    try start()
                    for piece in stride(from: 0, to: bytes.count, by: 64 * 1024) {
                        // A queued chunk is not sent past the deadline either.
                        guard WallClock.nowMilliseconds() < deadline else { return try cut() }
                        try client.streamChunk(
                            Array(bytes[piece..<min(piece + 64 * 1024, bytes.count)]), until: deadline)
                    }
                } catch {
                    channel.close(ResponseStreamClosed(description: "the Runtime API connection failed: \(error)"))
                    producer.cancel()
                    guard WallClock.nowMilliseconds() >= deadline else { throw error }
                    // The deadline came in the middle of a send: the chunk's framing is broken, so
                    // no trailer can follow; the connection is closed and Lambda ends the invocation.
                    context.logger.error("the response stream was cut by the deadline in the middle of a chunk")
                    return .rejected(status: 0, body: "cut by the deadline while sending")
                }
                channel.acknowledge()
            case .finished(nil):
                try start()
                return try client.endStream(error: nil)
            case .finished(let error?):
                let report = ErrorReport(error)
                context.logger.error("handler failed while streaming: \(report.errorType): \(report.errorMessage)")
                return started
                    ? try client.endStream(error: report)
                    : try client.reportError(requestID: invocation.requestID, report)
            }
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func installTerminationHandler(logger: Logger) {
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler {
            logger.info("SIGTERM received, shutting down")
            LogOutput.standardOutput.flush()
            exit(0)
        }
        source.resume()
        terminationSource = source
    }

    nonisolated(unsafe) static var terminationSource: (any DispatchSourceSignal)?
}
