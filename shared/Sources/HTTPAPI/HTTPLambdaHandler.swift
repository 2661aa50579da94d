import JSONCoding
import LambdaRuntime
import Synchronization

/// Serves HTTP events (API Gateway HTTP/REST APIs, Function URLs) with a router, answering in the
/// shape of each event.
public struct HTTPLambdaHandler: LambdaHandler {
    public let router: Router
    /// Route keys whose invocations stream (their integration reads Lambda's streaming mode):
    /// a `streamed` response on these goes out as it is written, on every other route it is
    /// gathered into a buffered answer. A streaming invocation cannot be told from its event, so
    /// whoever deploys the integration says so (STREAMING_ROUTES; `make run` streams them all).
    public var streamingRoutes: Set<String>
    /// Checked before any handler runs (ServiceBootstrap always sets it); nil only where no
    /// declaration exists (the minimal function, unit tests of the HTTP layer).
    public var access: RouteAccess?

    public init(router: Router, streamingRoutes: Set<String> = [], access: RouteAccess? = nil) {
        self.router = router
        self.streamingRoutes = streamingRoutes
        self.access = access
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
        let source = request.source
        let prelude = response.streamingPrelude(for: source)
        return .streamed(contentType: HTTPResponse.streamingContentType) { writer in
            // The head waits for the body's first bytes: until then a failure can still be
            // answered with a problem, as a buffered handler's is.
            let begun = Atomic<Bool>(false)
            do {
                try await stream.write(
                    HTTPBodySink { bytes in
                        if !begun.exchange(true, ordering: .relaxed) { try await writer.write(prelude) }
                        try await writer.write(bytes)
                    })
            } catch {
                let problem = failure(error, context: context)
                guard !begun.load(ordering: .relaxed) else {
                    // The status is sent: the stream ends with an error the client sees only as a
                    // broken body, and its message names the request, never the cause.
                    throw StreamedBodyFailed(requestID: context.requestID, status: problem.status)
                }
                try await writer.write(problem.streamingPrelude(for: source))
                try await writer.write(problem.body)
                return
            }
            if !begun.load(ordering: .relaxed) { try await writer.write(prelude) }
        }
    }

    private func answer(_ event: [UInt8], context: LambdaContext) async throws -> (HTTPRequest, HTTPResponse) {
        let request = try HTTPRequest(event: event)
        var response: HTTPResponse
        if let access, let key = route(of: request), let refusal = access.refusal(of: request, route: key) {
            context.logger.warning("refused before the handler: \(refusal)")
            response = refusal.response
        } else {
            response = await router.respond(to: request, context: context)
        }
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
        do {
            return try await response.gathered()
        } catch {
            return failure(error, context: context)
        }
    }

    /// The problem a failed streamed body answers with, logged with its cause and counted.
    private func failure(_ error: any Error, context: LambdaContext) -> HTTPResponse {
        let problem: HTTPProblem
        if error is CancellationError {
            problem = HTTPProblem(status: 504, detail: "the request was cancelled before it completed")
        } else {
            context.logger.error("streamed body failed: \(String(reflecting: error))")
            problem = HTTPProblem(status: 500, detail: "an unexpected error occurred; request id \(context.requestID)")
        }
        context.telemetry.recordStatus(problem.status)
        return problem.response
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
        /// handler without editing a service's source. ServiceBootstrap (and `make run` in-process)
        /// set it from CONTRACT_MUTATION="POST /users=200".
        public var statusMutation: (route: String, status: Int)?

        /// "POST /users=200" → (route "POST /users", status 200); nil for anything else.
        public static func statusMutation(_ setting: String?) -> (route: String, status: Int)? {
            guard let setting, let equals = setting.lastIndex(of: "="),
                let status = Int(setting[setting.index(after: equals)...])
            else { return nil }
            return (String(setting[..<equals]), status)
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

/// A streamed body that failed after its head was sent; its description is what the stream's
/// error trailer carries, so it names the request and nothing of the cause.
struct StreamedBodyFailed: Error, CustomStringConvertible {
    let requestID: String
    let status: Int
    var description: String { "the response body failed after it began; request id \(requestID)" }
}
