import JSONCoding
import LambdaRuntime

/// Serves HTTP events (API Gateway HTTP/REST APIs, Function URLs) with a router, answering in the
/// shape of each event.
public struct HTTPLambdaHandler: LambdaHandler {
    public let router: Router

    public init(router: Router) { self.router = router }

    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let request = try HTTPRequest(event: event)
        return await router.respond(to: request, context: context).encoded(for: request.source)
    }

    /// A 504 problem instead of a silent kill when the deadline comes.
    public func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]? {
        HTTPProblem(
            status: 504, detail: "the function did not answer before its timeout; request id \(context.requestID)"
        )
        .response.encoded(for: HTTPRequest.source(ofEvent: event))
    }
}
