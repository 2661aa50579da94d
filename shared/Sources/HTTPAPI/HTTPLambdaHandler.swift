import JSONCoding
import LambdaRuntime

/// Serves HTTP events (API Gateway HTTP/REST APIs, Function URLs) with a router, answering in the
/// shape of each event.
public struct HTTPLambdaHandler: LambdaHandler {
    public let router: Router

    public init(router: Router) { self.router = router }

    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let request = try HTTPRequest(event: event)
        var response = await router.respond(to: request, context: context)
        #if DEBUG
            if let mutation = statusMutation, route(of: request) == mutation.route { response.status = mutation.status }
        #endif
        context.telemetry.recordStatus(response.status)
        return response.encoded(for: request.source)
    }

    #if DEBUG
        /// Debug builds only (release packages compile it out): answers one route ("POST /users")
        /// with another status, so ci/contract-mutation.sh proves contract replay catches a broken
        /// handler without editing a service's source. ServiceBootstrap sets it from
        /// CONTRACT_MUTATION="POST /users=200".
        public var statusMutation: (route: String, status: Int)?

        func route(of request: HTTPRequest) -> String? {
            if let key = request.routeKey, key != "$default" { return key }
            guard case .route(let key, _, _) = router.match(method: request.method, path: request.rawPath) else {
                return nil
            }
            return key
        }
    #endif

    /// A 504 problem instead of a silent kill when the deadline comes.
    public func timeoutResponse(for event: [UInt8], context: LambdaContext) -> [UInt8]? {
        context.telemetry.recordStatus(504)
        return HTTPProblem(
            status: 504, detail: "the function did not answer before its timeout; request id \(context.requestID)"
        )
        .response.encoded(for: HTTPRequest.source(ofEvent: event))
    }
}
