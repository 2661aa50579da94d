import HTTPAPI

/// Who is calling, as API Gateway's authorizer verified it: the token's subject and scopes. Every
/// route is behind the authorizer (service.json), so a request without a subject only reaches a
/// handler through a misdeclared route, and is refused.
public struct Caller: Sendable, Equatable {
    public let subject: String
    public let scopes: Set<String>

    public init(subject: String, scopes: Set<String>) {
        self.subject = subject
        self.scopes = scopes
    }

    public init(_ request: HTTPRequest) throws(HTTPProblem) {
        guard let authorizer = request.authorizer, let subject = authorizer.claim("sub"), !subject.isEmpty else {
            throw HTTPProblem(status: 401, detail: "sign in: send a bearer token whose sub claim names you")
        }
        self.subject = subject
        self.scopes = authorizer.scopes
    }

    public func has(_ scope: String) -> Bool { scopes.contains(scope) }

    /// Whether the caller may act on what `owner` owns: its own, or anyone's with `adminScope`.
    public func mayActOn(owner: String, adminScope: String) -> Bool { owner == subject || has(adminScope) }
}
