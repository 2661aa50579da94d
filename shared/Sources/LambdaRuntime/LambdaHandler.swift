/// A function's logic: one event in, one response out. Thrown errors are reported to Lambda as
/// function errors and the runtime goes on to the next event.
public protocol LambdaHandler: Sendable {
    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8]

    /// The answer to send when the handler is cancelled at the deadline. The HTTP layer returns a
    /// 504 problem in the event's shape; `nil` reports a `DeadlineExceeded` function error instead.
    func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]?
}

extension LambdaHandler {
    public func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]? { nil }
}

/// A handler from a closure, for small functions and tests.
public struct ClosureHandler: LambdaHandler {
    let body: @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]
    public init(_ body: @escaping @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]) { self.body = body }
    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        try await body(event, context)
    }
}
