import LambdaRuntime

public typealias HTTPHandlerFunction = @Sendable (HTTPRequest, LambdaContext) async throws -> HTTPResponse

/// A route key as API Gateway writes it: `GET /users/{id}`, `ANY /{proxy+}` or `$default`.
public struct RouteKey: Sendable, Hashable, CustomStringConvertible {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
        case greedy(String)
    }

    public let method: String
    public let segments: [Segment]
    public let isDefault: Bool
    public let description: String

    public static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"]

    /// Parses and validates a route key, with the rules API Gateway applies.
    public init(_ text: String) throws(RouteKeyError) {
        description = text
        if text == "$default" {
            method = "ANY"
            segments = []
            isDefault = true
            return
        }
        isDefault = false
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw RouteKeyError(key: text, reason: "expected 'METHOD /path'") }
        guard RouteKey.methods.contains(String(parts[0])) else {
            throw RouteKeyError(
                key: text,
                reason: "unknown method '\(parts[0])' (use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY)")
        }
        method = String(parts[0])
        let path = parts[1]
        guard path.hasPrefix("/") else { throw RouteKeyError(key: text, reason: "the path must start with '/'") }
        var segments: [Segment] = []
        var names: Set<String> = []
        let rawSegments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (i, raw) in rawSegments.enumerated() {
            if raw.isEmpty {
                if rawSegments.count == 1 { break }  // "/"
                throw RouteKeyError(key: text, reason: "empty path segment")
            }
            if raw.hasPrefix("{") && raw.hasSuffix("}") {
                var name = String(raw.dropFirst().dropLast())
                let greedy = name.hasSuffix("+")
                if greedy { name.removeLast() }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw RouteKeyError(key: text, reason: "invalid path variable '\(raw)'")
                }
                guard names.insert(name).inserted else {
                    throw RouteKeyError(key: text, reason: "path variable '\(name)' repeats")
                }
                if greedy {
                    guard i == rawSegments.count - 1 else {
                        throw RouteKeyError(key: text, reason: "a greedy variable {\(name)+} must be the last segment")
                    }
                    segments.append(.greedy(name))
                } else {
                    segments.append(.parameter(name))
                }
            } else if raw.contains("{") || raw.contains("}") {
                throw RouteKeyError(key: text, reason: "a path variable must fill its whole segment")
            } else {
                segments.append(.literal(String(raw)))
            }
        }
        self.segments = segments
    }

    /// Matches a request path (percent-encoded); returns the decoded path parameters.
    func match(pathSegments: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (i, segment) in segments.enumerated() {
            switch segment {
            case .greedy(let name):
                guard i < pathSegments.count else { return nil }
                parameters[name] = PercentEncoding.decode(pathSegments[i...].joined(separator: "/"))
                return parameters
            case .literal(let literal):
                guard i < pathSegments.count, PercentEncoding.decode(pathSegments[i]) == literal else { return nil }
            case .parameter(let name):
                guard i < pathSegments.count, !pathSegments[i].isEmpty else { return nil }
                parameters[name] = PercentEncoding.decode(pathSegments[i])
            }
        }
        return segments.count == pathSegments.count ? parameters : nil
    }

    /// API Gateway's precedence: segment by segment, a literal beats a variable, which beats a
    /// greedy variable; then a named method beats ANY. Lower sorts first.
    func precedes(_ other: RouteKey) -> Bool {
        func rank(_ s: Segment) -> Int {
            switch s {
            case .literal: 0
            case .parameter: 1
            case .greedy: 2
            }
        }
        for (a, b) in zip(segments, other.segments) where rank(a) != rank(b) { return rank(a) < rank(b) }
        if segments.count != other.segments.count { return segments.count > other.segments.count }
        return method != "ANY" && other.method == "ANY"
    }
}

public struct RouteKeyError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public let reason: String
    public var description: String { "invalid route key '\(key)': \(reason)" }
}

/// Dispatches requests to handlers by route key, with API Gateway's matching rules.
public struct Router: Sendable {
    struct Route: Sendable {
        let key: RouteKey
        let handler: HTTPHandlerFunction
    }

    private var routes: [Route] = []
    private var defaultHandler: HTTPHandlerFunction?

    public init() {}

    /// The route keys that have a handler.
    public var routeKeys: [String] { routes.map(\.key.description) + (defaultHandler == nil ? [] : ["$default"]) }

    /// Registers a handler for a route key. An invalid key is a programming error caught at start-up.
    public mutating func on(_ key: String, _ handler: @escaping HTTPHandlerFunction) {
        let parsed: RouteKey
        do { parsed = try RouteKey(key) } catch { preconditionFailure(error.description) }
        if parsed.isDefault {
            defaultHandler = handler
            return
        }
        precondition(!routes.contains { $0.key == parsed }, "route '\(key)' is registered twice")
        routes.append(Route(key: parsed, handler: handler))
        routes.sort { $0.key.precedes($1.key) }
    }

    public enum Match {
        case route(key: String, parameters: [String: String], handler: HTTPHandlerFunction)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    public func match(method: String, path: String) -> Match {
        var segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if segments.count == 1 && segments[0].isEmpty { segments = [] }
        var allowed: [String] = []
        for route in routes {
            guard let parameters = route.key.match(pathSegments: segments) else { continue }
            if route.key.method == method || route.key.method == "ANY"
                || (method == "HEAD" && route.key.method == "GET")
            {
                return .route(key: route.key.description, parameters: parameters, handler: route.handler)
            }
            allowed.append(route.key.method)
        }
        if let defaultHandler { return .route(key: "$default", parameters: [:], handler: defaultHandler) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Answers a request: the gateway's route key when it names a registered route, else path matching.
    public func respond(to request: HTTPRequest, context: LambdaContext) async -> HTTPResponse {
        var request = request
        let match: Match
        if let key = request.routeKey, let route = routes.first(where: { $0.key.description == key }) {
            // The gateway already matched this route and decoded its path parameters.
            match = .route(key: key, parameters: request.pathParameters, handler: route.handler)
        } else {
            match = self.match(method: request.method, path: request.rawPath)
        }
        switch match {
        case .route(let key, let parameters, let handler):
            context.telemetry.recordRoute(key)
            request.routeKey = key
            request.pathParameters = parameters
            do {
                return try await handler(request, context)
            } catch let problem as HTTPProblem {
                return problem.response
            } catch is CancellationError {
                return HTTPProblem(status: 504, detail: "the request was cancelled before it completed").response
            } catch let error as any ProblemConvertible where error.problem != nil {
                context.logger.info("\(key): \(String(reflecting: error))")
                return error.problem!.response
            } catch {
                context.logger.error("unhandled error in \(key): \(String(reflecting: error))")
                return HTTPProblem(status: 500, detail: "an unexpected error occurred; request id \(context.requestID)")
                    .response
            }
        case .methodNotAllowed(let allowed):
            var unique: [String] = []
            for m in allowed where !unique.contains(m) { unique.append(m) }
            return HTTPProblem(
                status: 405, detail: "\(request.method) is not allowed on \(request.rawPath)",
                headers: ["allow": unique.joined(separator: ", ")]
            ).response
        case .notFound:
            return HTTPProblem.notFound("no route matches \(request.method) \(request.rawPath)").response
        }
    }
}
