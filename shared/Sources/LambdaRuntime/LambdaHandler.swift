/// A function's logic: one event in, one response out. Thrown errors are reported to Lambda as
/// function errors and the runtime goes on to the next event.
public protocol LambdaHandler: Sendable {
    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8]

    /// The answer the runtime sends: by default `handle`'s, whole. A handler that can stream
    /// returns `.streamed` for invocations whose invoker reads a stream.
    func respond(to event: [UInt8], context: LambdaContext) async throws -> LambdaResponse

    /// The answer to send when the handler is cancelled at the deadline. The HTTP layer returns a
    /// 504 problem in the event's shape; `nil` reports a `DeadlineExceeded` function error instead.
    func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]?
}

extension LambdaHandler {
    public func respond(to event: [UInt8], context: LambdaContext) async throws -> LambdaResponse {
        .buffered(try await handle(event, context: context))
    }

    public func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]? { nil }
}

/// What the runtime posts for one invocation.
public enum LambdaResponse: Sendable {
    /// The whole answer at once (at most `LambdaRuntime.maxResponseBytes`).
    case buffered([UInt8])
    /// Lambda's streaming response mode: `contentType` travels to the invoker, `body` writes the
    /// bytes as they are produced (up to 200 MB; the first 6 MB at full speed). An error thrown
    /// after the first byte ends the stream with Lambda's error trailers.
    case streamed(contentType: String, body: @Sendable (LambdaResponseWriter) async throws -> Void)
}

/// A handler from a closure, for small functions and tests.
public struct ClosureHandler: LambdaHandler {
    let body: @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]
    public init(_ body: @escaping @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]) { self.body = body }
    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        try await body(event, context)
    }
}
