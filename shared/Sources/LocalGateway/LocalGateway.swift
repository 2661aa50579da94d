import HTTPAPI
import JSONCoding
import JWT
import LambdaRuntime
import Logging
import LoopbackHTTP
import Platform
import Synchronization

/// A local API Gateway: every declared route of every service, matched with API Gateway's rules,
/// each request turned into an event for the service's handler (payload 2.0 for an HTTP API, 1.0
/// for a REST API or when asked), and the answer mapped back to HTTP as that API type does.
public final class LocalGateway: Sendable {
    public struct Service: Sendable {
        public var declaration: ServiceDeclaration
        public var handler: any LambdaHandler
        public init(declaration: ServiceDeclaration, handler: any LambdaHandler) {
            self.declaration = declaration
            self.handler = handler
        }
    }

    struct Route: Sendable {
        let service: Service
        let settings: ServiceDeclaration.Route
    }

    public static let maxBodyBytes = 10 * 1024 * 1024
    let services: [Service]
    let routes: [String: Route]
    /// The service behind a `$default` route, if any: unmatched requests go to its handler.
    let defaultRoute: Route?
    let router: Router
    let stage: GatewayEvent.Stage
    let logger: Logger
    let observer: Observer?
    /// "2.0" (HTTP API default) or "1.0" (REST API proxy integrations).
    let payloadVersion: String
    let settings: StageSettings
    let authorizer: JWTAuthorizer?
    /// A REST API's behaviour (nil: an HTTP API's).
    let rest: RESTStage?
    let accessLog: (@Sendable (String) -> Void)?
    /// `make run TIMINGS=1`: a line per request with where its time went.
    let timings: (@Sendable (String) -> Void)?
    private let server: LockedServer

    /// Sees every exchange a service answered: its name, the event and the function's answer
    /// (record mode writes them as contract cases).
    public typealias Observer = @Sendable (_ service: String, _ event: [UInt8], _ answer: [UInt8]) -> Void

    /// Pages the local gateway serves itself before any route (`make run`'s API docs); nil for a
    /// request that is not one of them.
    public typealias Pages = @Sendable (ServerRequest) -> ServerResponse?
    let pages: Pages?

    public init(
        services: [Service], stage: GatewayEvent.Stage = .init(), logger: Logger = Logger(label: "gateway"),
        payloadVersion: String = "2.0", settings: StageSettings = StageSettings(), authorizer: JWTAuthorizer? = nil,
        rest: RESTStage? = nil, accessLog: (@Sendable (String) -> Void)? = nil, defaultService: String? = nil,
        observer: Observer? = nil, timings: (@Sendable (String) -> Void)? = nil, pages: Pages? = nil
    ) throws {
        guard payloadVersion == "2.0" || payloadVersion == "1.0" else {
            throw GatewayError(description: "payload version \(payloadVersion) is not 1.0 or 2.0")
        }
        guard rest == nil || payloadVersion == "1.0" else {
            throw GatewayError(
                description: "a REST API's Lambda proxy integrations send payload 1.0, not \(payloadVersion)")
        }
        var routes: [String: Route] = [:]
        var router = Router()
        for service in services {
            for (key, settings) in service.declaration.routes {
                guard routes[key] == nil else {
                    throw GatewayError(
                        description:
                            "route '\(key)' is declared by two services: \(routes[key]!.service.declaration.name) and \(service.declaration.name)"
                    )
                }
                routes[key] = Route(service: service, settings: settings)
                // The router only matches; the gateway dispatches by the matched key.
                router.on(key) { _, _ in .noContent() }
            }
        }
        self.services = services
        self.routes = routes
        if let defaultService {
            guard let service = services.first(where: { $0.declaration.name == defaultService }) else {
                throw GatewayError(description: "no service named '\(defaultService)' for the $default route")
            }
            defaultRoute = Route(
                service: service,
                settings: try JSON.decodeStrict(ServiceDeclaration.Route.self, from: JSONValue.object([:])))
        } else {
            defaultRoute = nil
        }
        self.router = router
        self.stage = stage
        self.logger = logger
        self.observer = observer
        self.payloadVersion = payloadVersion
        self.settings = settings
        self.authorizer = authorizer
        self.rest = rest
        self.accessLog = accessLog
        self.timings = timings
        self.pages = pages
        server = LockedServer()
    }

    public struct GatewayError: Error, CustomStringConvertible {
        public let description: String
    }

    /// "HTTP API" or "REST API": which API Gateway this one plays.
    public var apiType: String { rest == nil ? "HTTP API" : "REST API" }

    /// The route table, sorted by path then method: route key → service.
    public var routeTable: [(key: String, service: String)] {
        routes.map { ($0.key, $0.value.service.declaration.name) }.sorted {
            let a = $0.key.split(separator: " ")
            let b = $1.key.split(separator: " ")
            return (a.last ?? "", a.first ?? "") < (b.last ?? "", b.first ?? "")
        }
    }

    /// Runs one event through a service's handler, as `sam local invoke` does; returns its answer.
    public func invoke(service name: String, event: [UInt8]) async throws -> [UInt8] {
        guard let service = services.first(where: { $0.declaration.name == name }) else {
            throw GatewayError(
                description:
                    "no service named '\(name)'; services: \(services.map(\.declaration.name).joined(separator: ", "))")
        }
        let context = LambdaContext(
            requestID: ResourceRequestID.next(),
            deadlineMilliseconds: WallClock.nowMilliseconds() + Int64(service.declaration.function.timeout) * 1000,
            invokedFunctionARN: "arn:aws:lambda:local:\(stage.accountID):function:\(name)", logger: logger)
        let answer = try await LambdaContext.$current.withValue(context) {
            try await service.handler.respond(to: event, context: context)
        }
        return try await Self.buffered(answer, event: event)
    }

    /// A function's answer as a buffered Lambda response document: a streamed one read to its end
    /// and turned back into the document its prelude and body stand for (what a contract case
    /// holds either way).
    static func buffered(_ answer: LambdaResponse, event: [UInt8]) async throws -> [UInt8] {
        switch answer {
        case .buffered(let bytes): return bytes
        case .streamed(let contentType, let body):
            let gathered = Gathered()
            try await body(LambdaResponseWriter { gathered.append($0) })
            return try Self.document(streamed: gathered.bytes, contentType: contentType, event: event)
        }
    }

    public static func document(streamed bytes: [UInt8], contentType: String, event: [UInt8]) throws -> [UInt8] {
        guard contentType == HTTPResponse.streamingContentType else {
            throw GatewayError(
                description: "a streamed answer of type \(contentType), not an HTTP integration response")
        }
        do {
            return try HTTPResponse(streamedAnswer: bytes).encoded(for: HTTPRequest.source(ofEvent: event))
        } catch {
            throw GatewayError(description: "a streamed answer the gateway cannot read: \(error)")
        }
    }

    /// A realistic payload 2.0 event for a request, as this gateway would send it (like
    /// `sam local generate-event`): the matched route key, path parameters and all fields.
    /// The event the function would get for a request, with the JWT authorizer's claims when the
    /// route declares JWT (the request must then carry a token the authorizer accepts).
    public func event(for request: ServerRequest) throws -> JSONValue {
        guard case .route(let key, let parameters, _) = router.match(method: request.method, path: request.path),
            let route = routes[key]
        else {
            throw GatewayError(description: "no declared route matches \(request.method) \(request.path)")
        }
        switch authorize(request, route: route, key: key) {
        case .failure(let refusal):
            throw GatewayError(
                description:
                    "\(key) is behind the JWT authorizer, which answers \(refusal.response.status): give a token with one of the scopes \(route.settings.scopes ?? []), e.g. SUB=ada SCOPE=\"\((route.settings.scopes ?? []).first ?? "")\""
            )
        case .success(let context):
            return GatewayEvent.make(
                request, routeKey: key, pathParameters: parameters, requestID: ResourceRequestID.next(), stage: stage,
                authorizer: context)
        }
    }

    struct Refusal: Error {
        let response: ServerResponse
        /// The verified claims of a token refused for its scopes (none for a 401).
        var context: JSONValue? = nil
    }

    /// API Gateway's JWT authorizer for a route: the claims to pass on, or its 401/403.
    func authorize(_ request: ServerRequest, route: Route, key: String) -> Result<JSONValue?, Refusal> {
        guard route.settings.authorization?.uppercased() == "JWT" else { return .success(nil) }
        let outcome =
            authorizer?.authorize(
                request.header("authorization"), scopes: route.settings.scopes ?? [], now: WallClock.nowMilliseconds())
            ?? .unauthorized(reason: "no JWT authorizer configured")
        switch outcome {
        case .unauthorized(let reason):
            logger.debug("401 on \(key): \(reason)")
            return .failure(Refusal(response: GatewayEvent.unauthorized))
        case .forbidden(let claims):
            return .failure(Refusal(response: GatewayEvent.forbidden, context: GatewayEvent.jwtContext(claims)))
        case .authorized(let claims): return .success(GatewayEvent.jwtContext(claims))
        }
    }

    public func start(port: Int) async throws -> Int {
        let server = try await LoopbackHTTPServer.start(
            port: port, maxBodyBytes: Self.maxBodyBytes, tooLarge: rest == nil ? nil : RESTStage.requestTooLong
        ) { [self] request in
            await self.handle(request)
        }
        self.server.set(server)
        return server.port
    }

    public func stop() async { await server.get()?.stop() }

    /// One request as the stage handles it: CORS preflight, routing and the integration, CORS
    /// headers on the answer, and an access log line.
    public func handle(_ request: ServerRequest) async -> ServerResponse {
        let started = WallClock.nowMicroseconds()
        let requestID = ResourceRequestID.next()
        var integration: Integration?
        var principal: String?
        var response: ServerResponse
        if let page = pages?(request) {
            response = page
        } else if let preflight = settings.preflight(request) {
            response = preflight
        } else {
            (response, integration, principal) = await dispatch(request, requestID: requestID)
            settings.applyCORS(to: &response, origin: request.header("origin"))
        }
        guard let produce = response.stream else {
            log(
                request, requestID: requestID, status: response.status, length: response.body.count, started: started,
                integration: integration, principal: principal)
            return response
        }
        // A streamed answer: CORS on its head, the logs once its last byte is sent.
        return .streamed { [self, integration, principal] client in
            let sent = Mutex((status: 502, length: 0))
            defer {
                let (status, length) = sent.withLock { $0 }
                log(
                    request, requestID: requestID, status: status, length: length, started: started,
                    integration: integration, principal: principal)
            }
            try await produce(
                ServerResponseStream(
                    head: { status, headers in
                        var head = ServerResponse(status: status, headers: headers)
                        self.settings.applyCORS(to: &head, origin: request.header("origin"))
                        sent.withLock { $0.status = status }
                        try await client.head(status: status, headers: head.headers)
                    },
                    write: { bytes in
                        sent.withLock { $0.length += bytes.count }
                        try await client.write(bytes)
                    }))
        }
    }

    /// The access log line and `make run TIMINGS=1`'s line for one answered request.
    func log(
        _ request: ServerRequest, requestID: String, status: Int, length: Int, started: Int64,
        integration: Integration?,
        principal: String? = nil
    ) {
        let integrationLatency = integration.map { ($0.endMicroseconds - $0.startMicroseconds) / 1000 }
        if let timings {
            timings(timingLine(request, status: status, started: started, integration: integration))
        }
        if let accessLog {
            var routeKey = "-"
            if case .route(let key, _, _) = router.match(method: request.method, path: request.path) { routeKey = key }
            let variables: [String: String] = [
                "requestId": requestID, "identity.sourceIp": request.remoteAddress ?? "127.0.0.1",
                "requestTime": WallClock.commonLogFormat(milliseconds: started / 1000), "httpMethod": request.method,
                "routeKey": routeKey, "path": request.path, "status": String(status),
                "protocol": request.version, "responseLength": String(length),
                "responseLatency": String((WallClock.nowMicroseconds() - started) / 1000),
                "integrationLatency": integrationLatency.map { String($0) } ?? "-",
                "identity.userAgent": request.header("user-agent") ?? "-",
                // Who called: the token's sub (HTTP API JWT claims; a REST authorizer's principalId).
                "authorizer.claims.sub": principal ?? "-", "authorizer.principalId": principal ?? "-",
            ]
            if let line = settings.accessLogLine(variables) { accessLog(line) }
        }
    }

    /// One call of a function: when it ran and what it recorded (its AWS calls).
    struct Integration: Sendable {
        let startMicroseconds: Int64
        let endMicroseconds: Int64
        let telemetry: InvocationTelemetry
    }

    /// `timing GET /users/{id} 200 in 7.9 ms: gateway 0.6 ms, function 7.3 ms (DynamoDB GetItem 2.1 ms)`
    func timingLine(_ request: ServerRequest, status: Int, started: Int64, integration: Integration?) -> String {
        func ms(_ microseconds: Int64) -> String {
            let tenths = max(0, microseconds) / 100  // a wall-clock step could make a difference negative
            return "\(tenths / 10).\(tenths % 10) ms"
        }
        var route = "\(request.method) \(request.path)"
        if case .route(let key, _, _) = router.match(method: request.method, path: request.path) { route = key }
        let total = WallClock.nowMicroseconds() - started
        var line = "timing \(route) \(status) in \(ms(total))"
        guard let integration else { return line + ": gateway \(ms(total))" }
        let function = integration.endMicroseconds - integration.startMicroseconds
        line += ": gateway \(ms(total - function)), function \(ms(function))"
        let calls = integration.telemetry.calls.map {
            "\($0.service) \($0.operation) \(ms($0.endMicroseconds - $0.startMicroseconds))"
                + ($0.attempts > 1 ? " (\($0.attempts) attempts)" : "")
        }
        return calls.isEmpty ? line : line + " (" + calls.joined(separator: ", ") + ")"
    }

    /// Routing, the authorizer and the integration: the answer and, when a function ran, its call.
    /// The answer, the function's call (none when the gateway answered alone) and the caller the
    /// authorizer let through (its sub), for the access log.
    func dispatch(_ request: ServerRequest, requestID: String) async -> (ServerResponse, Integration?, String?) {
        let key: String
        let parameters: [String: String]
        let route: Route
        if case .route(let matched, let matchedParameters, _) = router.match(method: request.method, path: request.path),
            let declared = routes[matched]
        {
            (key, parameters, route) = (matched, matchedParameters, declared)
        } else if let defaultRoute {
            // An HTTP API's `$default` route (or a REST API's `{proxy+}`) takes what no route matches.
            (key, parameters, route) = ("$default", [:], defaultRoute)
        } else if rest != nil {
            // A REST API answers any unknown resource or method so, whatever the authorization.
            return (RESTStage.missingAuthenticationToken, nil, nil)
        } else {
            // HTTP APIs answer an unmatched method like an unknown path.
            return (GatewayEvent.message(404, "Not Found"), nil, nil)
        }
        let authorizerContext: JSONValue?
        let build = payloadVersion == "1.0" ? GatewayEvent.makeV1 : GatewayEvent.make
        let verdict: Result<JSONValue?, Refusal>
        if rest != nil, route.settings.apiKeyRequired == true, (request.header("x-api-key") ?? "").isEmpty {
            // A method requiring an API key refuses a request without one before any authorizer.
            verdict = .failure(Refusal(response: GatewayEvent.message(403, "Forbidden")))
        } else if let rest, route.settings.authorization?.uppercased() == "JWT" {
            verdict = await rest.authorize(
                request, routeKey: key, pathParameters: parameters, requestID: requestID, stage: stage, logger: logger
            ).map { .object(["rest": .object($0)]) }
        } else {
            verdict = authorize(request, route: route, key: key)
        }
        switch verdict {
        case .success(let context): authorizerContext = context
        case .failure(let refusal):
            // Recorded too: a contract corpus proves the route stays behind the authorizer.
            if let observer {
                let unsent = build(
                    request, key, parameters, requestID, stage, refusal.context, WallClock.nowMilliseconds())
                observer(route.service.declaration.name, unsent.serialized(), refusal.response.lambdaResponse)
            }
            return (refusal.response, nil, nil)
        }
        let principal =
            authorizerContext?["jwt"]?["claims"]?["sub"]?.stringValue
            ?? authorizerContext?["rest"]?["principalId"]?.stringValue
        let event = build(request, key, parameters, requestID, stage, authorizerContext, WallClock.nowMilliseconds())
            .serialized()
        let timeout = Int64(route.settings.timeoutMilliseconds ?? 30_000)
        let context = LambdaContext(
            requestID: requestID,
            deadlineMilliseconds: WallClock.nowMilliseconds() + Int64(route.service.declaration.function.timeout)
                * 1000,
            invokedFunctionARN: "arn:aws:lambda:local:\(stage.accountID):function:\(route.service.declaration.name)",
            logger: logger, telemetry: InvocationTelemetry())
        let handler = route.service.handler
        let streams = route.settings.streamed == true
        enum Outcome: Sendable {
            case answer(LambdaResponse)
            case failed(String)
            case timedOut
        }
        let invoked = WallClock.nowMicroseconds()
        let outcome = await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                do {
                    return .answer(
                        try await LambdaContext.$current.withValue(context) {
                            streams
                                ? try await handler.respond(to: event, context: context)
                                : .buffered(try await handler.handle(event, context: context))
                        })
                } catch {
                    return .failed(String(describing: error))
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(timeout))
                return .timedOut
            }
            let first = await group.next() ?? .timedOut
            group.cancelAll()
            return first
        }
        let latency = Integration(
            startMicroseconds: invoked, endMicroseconds: WallClock.nowMicroseconds(), telemetry: context.telemetry)
        switch outcome {
        case .answer(.streamed(let contentType, let body)):
            return (
                stream(
                    body, contentType: contentType, event: event, service: route.service.declaration.name,
                    context: context),
                latency, principal
            )
        case .answer(.buffered(let bytes)):
            observer?(route.service.declaration.name, event, bytes)
            return (
                rest == nil ? GatewayEvent.response(fromLambda: bytes) : RESTStage.response(fromLambda: bytes), latency,
                principal
            )
        case .failed(let error):
            logger.error("\(route.service.declaration.name) failed on \(key): \(error)")
            return (
                rest == nil ? GatewayEvent.message(500, "Internal Server Error") : RESTStage.internalError, latency,
                principal
            )
        case .timedOut:
            return (
                rest == nil ? GatewayEvent.message(503, "Service Unavailable") : RESTStage.timedOut, latency, principal
            )
        }
    }
}

extension LocalGateway {
    /// A streamed answer sent on as it is written, as API Gateway's streaming integrations and
    /// Function URLs send one: the prelude becomes the head, the rest the chunked body. The
    /// recorder, if any, gets the answer whole at the end.
    func stream(
        _ body: @escaping @Sendable (LambdaResponseWriter) async throws -> Void, contentType: String, event: [UInt8],
        service: String, context: LambdaContext
    ) -> ServerResponse {
        .streamed { [self] client in
            let prelude = Gathered()
            let kept = observer == nil ? nil : Gathered()
            let sentHead = Mutex(false)
            do {
                try await Self.untilDeadline(context.deadlineMilliseconds, service: service) {
                    try await LambdaContext.$current.withValue(context) {
                        try await body(
                            LambdaResponseWriter { chunk in
                                kept?.append(chunk)
                                if sentHead.withLock({ $0 }) { return try await client.write(chunk) }
                                guard contentType == HTTPResponse.streamingContentType else {
                                    throw GatewayError(
                                        description:
                                            "\(service) streamed \(contentType), not an HTTP integration response")
                                }
                                prelude.append(chunk)
                                guard let head = try? HTTPResponse(streamedAnswer: prelude.bytes) else {
                                    guard prelude.bytes.count <= 16 * 1024 + 8 else {
                                        throw GatewayError(
                                            description: "\(service)'s stream has no prelude in its first 16 KB")
                                    }
                                    return
                                }
                                try await client.head(
                                    status: head.status,
                                    headers: head.headers.map { ($0.0, $0.1) } + head.cookies.map { ("set-cookie", $0) }
                                )
                                sentHead.withLock { $0 = true }
                                try await client.write(head.body)
                            })
                    }
                }
                // A stream that ends before its prelude is a malformed answer: a 502, as a buffered
                // one of the wrong shape is.
                guard sentHead.withLock({ $0 }) else {
                    throw GatewayError(description: "\(service)'s stream ended before its prelude")
                }
            } catch {
                logger.error("\(service) failed while streaming: \(error)")
                throw error
            }
            if let kept, let observer {
                observer(
                    service, event, try Self.document(streamed: kept.bytes, contentType: contentType, event: event))
            }
        }
    }
}

extension LocalGateway {
    /// Runs a streamed body until the function's deadline, as Lambda does: past it the stream is
    /// cut (before the head, the client gets a 502; after it, the body ends early).
    static func untilDeadline(
        _ deadline: Int64, service: String, _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(max(0, deadline - WallClock.nowMilliseconds())))
                throw GatewayError(description: "\(service)'s stream was cut at the function's timeout")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}

/// Bytes gathered from a stream's chunks.
final class Gathered: Sendable {
    private let storage = Mutex<[UInt8]>([])
    func append(_ chunk: [UInt8]) { storage.withLock { $0 += chunk } }
    var bytes: [UInt8] { storage.withLock { $0 } }
}

/// Request ids in API Gateway's style (base64-ish, unique per process).
enum ResourceRequestID {
    static let counter = Counter()
    static func next() -> String { "LOCAL-\(String(WallClock.nowMilliseconds(), radix: 36))-\(counter.increment())" }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}

final class LockedServer: Sendable {
    private let server = Mutex<LoopbackHTTPServer?>(nil)
    func set(_ s: LoopbackHTTPServer) { server.withLock { $0 = s } }
    func get() -> LoopbackHTTPServer? { server.withLock { $0 } }
}
