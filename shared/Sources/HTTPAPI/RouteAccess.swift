import JSONCoding

/// Who may call each route, as service.json declares it, checked by `HTTPLambdaHandler` before any
/// handler runs. The gateway's authorizer checks the same first; this second check is what keeps a
/// route published without its authorizer, or an edited scope list at the gateway, from opening a
/// handler. Deployed functions get it in `ROUTE_ACCESS` (modules/infrastructure writes it from
/// service.json): a JSON object from route key to the scopes of which any one opens the route (an
/// empty list: any signed-in caller), or null for a route the service declares public.
public struct RouteAccess: Sendable, Equatable {
    public enum Rule: Sendable, Equatable {
        /// `"authorization": "NONE"` with `"public": true`.
        case open
        /// `"authorization": "JWT"`: a caller with a subject and one of these scopes (any, if empty).
        case signedIn(scopes: [String])
    }

    public static let environmentName = "ROUTE_ACCESS"

    public var rules: [String: Rule]

    public init(rules: [String: Rule]) { self.rules = rules }

    /// The rules service.json declares; a route without a valid `authorization` gets none, so it is
    /// refused (ServiceDeclaration.validate names it).
    public init(declaration: ServiceDeclaration) {
        var rules: [String: Rule] = [:]
        for (key, route) in declaration.routes {
            switch (route.authorization, route.public ?? false) {
            case ("JWT", false): rules[key] = .signedIn(scopes: route.scopes ?? [])
            case ("NONE", true): rules[key] = .open
            default: break
            }
        }
        self.init(rules: rules)
    }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// From `ROUTE_ACCESS`'s value.
    public init(environmentValue text: String) throws(Problem) {
        guard case .object(let routes)? = try? JSONValue.parse(text) else {
            throw Problem(description: "\(Self.environmentName) must be a JSON object from route key to scopes or null")
        }
        var rules: [String: Rule] = [:]
        for (key, value) in routes {
            switch value {
            case .null: rules[key] = .open
            case .array(let list):
                let scopes = list.compactMap(\.stringValue)
                guard scopes.count == list.count else {
                    throw Problem(description: "\(Self.environmentName): the scopes of \(key) must be strings")
                }
                rules[key] = .signedIn(scopes: scopes)
            default:
                throw Problem(description: "\(Self.environmentName): \(key) needs a list of scopes or null")
            }
        }
        self.init(rules: rules)
    }

    /// `ROUTE_ACCESS`'s value for these rules.
    public var environmentValue: String {
        var object = JSONObject()
        for key in rules.keys.sorted() {
            switch rules[key]! {
            case .open: object[key] = .null
            case .signedIn(let scopes): object[key] = .array(scopes.map(JSONValue.string))
            }
        }
        return JSONValue.object(object).jsonString
    }

    /// Why `request` may not reach the handler of `route`; nil when it may. An undeclared route
    /// is refused: access is granted by a declaration, never by its absence.
    public func refusal(of request: HTTPRequest, route: String) -> HTTPProblem? {
        switch rules[route] {
        case .open?: return nil
        case nil: return HTTPProblem(status: 403, detail: "\(route) is not declared open to any caller")
        case .signedIn(let scopes)?:
            guard let authorizer = request.authorizer, let subject = authorizer.claim("sub"), !subject.isEmpty else {
                return HTTPProblem(status: 401, detail: "sign in: send a bearer token whose sub claim names you")
            }
            let granted = authorizer.scopes
            guard scopes.isEmpty || scopes.contains(where: granted.contains) else {
                return HTTPProblem(
                    status: 403, detail: "\(route) needs one of the scopes \(scopes.joined(separator: ", "))")
            }
            return nil
        }
    }
}
