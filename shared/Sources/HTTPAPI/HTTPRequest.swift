import JSONCoding

/// Which integration produced an event; responses are encoded back in the same shape.
public enum EventSource: String, Sendable, Equatable {
    /// API Gateway HTTP API, payload format 2.0.
    case httpAPI = "apigateway-http-v2"
    /// API Gateway REST API Lambda proxy, or HTTP API with payload format 1.0.
    case restAPI = "apigateway-rest-v1"
    /// Lambda Function URL (payload 2.0 shape).
    case functionURL = "lambda-function-url"
}

/// Who the caller is, as the API's authorizer established it.
public enum Authorizer: Sendable, Equatable {
    /// An HTTP API JWT authorizer: the token's claims and scopes.
    case jwt(claims: JSONObject, scopes: [String])
    /// A Lambda authorizer's context.
    case lambda(JSONObject)
    /// IAM (SigV4) authorization: accessKey, accountId, userArn, cognitoIdentity...
    case iam(JSONObject)
    /// A REST API authorizer (Cognito user pool claims or a custom authorizer's context).
    case rest(principalID: String?, context: JSONObject)

    /// The scopes the caller was granted: the space-separated `scope` claim the token (or the REST
    /// authorizer's context, which merges `scp` into it) carries, and an HTTP API JWT authorizer's
    /// `scopes` list, which API Gateway may leave null.
    public var scopes: Set<String> {
        var granted = Set((claim("scope") ?? "").split(separator: " ").map(String.init))
        if case .jwt(_, let scopes) = self { granted.formUnion(scopes) }
        return granted
    }

    /// A JWT claim or Cognito claim, as text.
    public func claim(_ name: String) -> String? {
        let value: JSONValue?
        switch self {
        case .jwt(let claims, _): value = claims[name]
        case .rest(_, let context): value = context["claims"]?[name] ?? context[name]
        case .lambda(let context), .iam(let context): value = context[name]
        }
        switch value {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return String(b)
        default: return nil
        }
    }
}

/// One HTTP request, whichever integration delivered it.
public struct HTTPRequest: Sendable {
    public var source: EventSource
    public var method: String
    /// The path as the client sent it (percent-encoded), without a custom domain's mapping prefix.
    public var rawPath: String
    public var rawQueryString: String
    public var query: QueryParameters
    public var headers: HTTPHeaders
    /// Request cookies as `name=value` strings.
    public var cookies: [String]
    /// Values of the route's `{name}` and `{name+}` segments, percent-decoded.
    public var pathParameters: [String: String]
    public var stageVariables: [String: String]
    public var body: [UInt8]
    /// The route key that matched (`GET /users/{id}`), when the gateway or the router knows it.
    public var routeKey: String?
    public var requestID: String?
    public var stage: String?
    public var sourceIP: String?
    public var authorizer: Authorizer?
    /// The whole event, for fields this type does not surface.
    public var event: JSONValue

    public init(
        source: EventSource = .httpAPI, method: String, rawPath: String, rawQueryString: String = "",
        headers: HTTPHeaders = [:], cookies: [String] = [], pathParameters: [String: String] = [:],
        body: [UInt8] = [], routeKey: String? = nil, authorizer: Authorizer? = nil
    ) {
        self.source = source
        self.method = method.uppercased()
        self.rawPath = rawPath
        self.rawQueryString = rawQueryString
        self.query = QueryParameters(rawQueryString: rawQueryString)
        self.headers = headers
        self.cookies = cookies
        self.pathParameters = pathParameters
        self.stageVariables = [:]
        self.body = body
        self.routeKey = routeKey
        self.authorizer = authorizer
        self.event = .null
    }

    /// The value of the cookie with this name.
    public func cookie(_ name: String) -> String? {
        for cookie in cookies {
            let trimmed = cookie.drop { $0 == " " }
            if let eq = trimmed.firstIndex(of: "="), trimmed[..<eq] == name {
                return String(trimmed[trimmed.index(after: eq)...])
            }
        }
        return nil
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
