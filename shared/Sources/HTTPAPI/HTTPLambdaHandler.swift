import JSONCoding
import LambdaRuntime

/// Serves HTTP events (API Gateway HTTP/REST APIs, Function URLs) with a router, answering in the
/// shape of each event.
public struct HTTPLambdaHandler: LambdaHandler {
    public let router: Router
    /// Route keys whose invocations stream (their integration reads Lambda's streaming mode):
    /// a `streamed` response on these goes out as it is written, on every other route it is
    /// gathered into a buffered answer. A streaming invocation cannot be told from its event, so
    /// whoever deploys the integration says so (STREAMING_ROUTES; `make run` streams them all).
    public var streamingRoutes: Set<String>

    public init(router: Router, streamingRoutes: Set<String> = []) {
        self.router = router
        self.streamingRoutes = streamingRoutes
    }

    public func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let (request, response) = try await answer(event, context: context)
        return await gather(response, context: context).encoded(for: request.source)
    }

    public func respond(to event: [UInt8], context: LambdaContext) async throws -> LambdaResponse {
        let (request, response) = try await answer(event, context: context)
        guard let stream = response.stream, let key = route(of: request), streamingRoutes.contains(key) else {
            return .buffered(await gather(response, context: context).encoded(for: request.source))
        }
        let prelude = response.streamingPrelude(for: request.source)
        return .streamed(contentType: HTTPResponse.streamingContentType) { writer in
            try await writer.write(prelude)
            try await stream.write(HTTPBodySink { try await writer.write($0) })
        }
    }

    private func answer(_ event: [UInt8], context: LambdaContext) async throws -> (HTTPRequest, HTTPResponse) {
        let request = try HTTPRequest(event: event)
        var response = await router.respond(to: request, context: context)
        #if DEBUG
            if let mutation = statusMutation, route(of: request) == mutation.route { response.status = mutation.status }
        #endif
        context.telemetry.recordStatus(response.status)
        return (request, response)
    }

    /// A streamed body gathered for a buffered answer. The head is not sent yet, so a producer
    /// that fails still gets the problem answer a failing handler gets.
    private func gather(_ response: HTTPResponse, context: LambdaContext) async -> HTTPResponse {
        guard response.stream != nil else { return response }
        let whole: HTTPResponse
        do {
            whole = try await response.gathered()
        } catch is CancellationError {
            whole = HTTPProblem(status: 504, detail: "the request was cancelled before it completed").response
        } catch {
            context.logger.error("streamed body failed: \(String(reflecting: error))")
            whole =
                HTTPProblem(status: 500, detail: "an unexpected error occurred; request id \(context.requestID)")
                .response
        }
        context.telemetry.recordStatus(whole.status)
        return whole
    }

    /// The route a request is for: the gateway's route key, else the router's match.
    func route(of request: HTTPRequest) -> String? {
        if let key = request.routeKey, key != "$default" { return key }
        guard case .route(let key, _, _) = router.match(method: request.method, path: request.rawPath) else {
            return nil
        }
        return key
    }

    #if DEBUG
        /// Debug builds only (release packages compile it out): answers one route ("POST /users")
        /// with another status, so ci/contract-mutation.sh proves contract replay catches a broken
        /// handler without editing a service's source. ServiceBootstrap sets it from
        /// CONTRACT_MUTATION="POST /users=200".
        public var statusMutation: (route: String, status: Int)?
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
