import LambdaRuntime
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs the real runtime loop (`LambdaRuntime.serve`) on its own thread, as a bootstrap's main
/// thread would, and reports how it ended.
public func serveOnThread<Handler: LambdaHandler>(
    endpoint: String, logger: Logger = Logger(label: "test"),
    deadlineMarginMilliseconds: Int64 = LambdaRuntime.defaultDeadlineMarginMilliseconds,
    maxInvocations: Int? = nil, telemetry: RuntimeTelemetry = RuntimeTelemetry(),
    makeHandler: @escaping @Sendable (Logger) async throws -> Handler
) async -> LambdaRuntime.Exit {
    await withCheckedContinuation { continuation in
        let box = ThreadBody {
            continuation.resume(
                returning: LambdaRuntime.serve(
                    endpoint: endpoint, logger: logger, deadlineMarginMilliseconds: deadlineMarginMilliseconds,
                    maxInvocations: maxInvocations, telemetry: telemetry, makeHandler: makeHandler))
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(box).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { raw in
                let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
                body.run()
                return nil
            }, context)
        precondition(status == 0, "pthread_create failed")
        pthread_detach(thread)
    }
}

final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
