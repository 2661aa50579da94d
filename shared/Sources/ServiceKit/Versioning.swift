import HTTPAPI

/// Optimistic concurrency over HTTP: a version number travels as a strong ETag (`"3"`), and
/// `If-Match` names the versions a client accepts, as RFC 9110 §13.1.1 defines it.
public enum ETag {
    public static func make(version: Int) -> String { "\"\(version)\"" }

    /// An `If-Match` precondition: `*` (the resource exists) or a list of entity-tags.
    public enum Precondition: Sendable, Equatable {
        case exists
        /// The strong tags listed; weak tags (`W/"3"`) are dropped, since If-Match compares
        /// strongly and a weak tag never matches (RFC 9110 §8.8.3.2).
        case oneOf([String])

        /// Whether a resource at `version` satisfies it (strong comparison).
        public func matches(version: Int) -> Bool {
            switch self {
            case .exists: true
            case .oneOf(let tags): tags.contains(ETag.make(version: version))
            }
        }
    }

    /// The request's `If-Match`, nil when absent. Only a syntactically malformed header is a 400: a
    /// well-formed tag this API never issued (`"bogus"`) is a precondition that fails (412).
    public static func precondition(_ request: HTTPRequest) throws(HTTPProblem) -> Precondition? {
        guard let header = request.headers["if-match"] else { return nil }
        let value = header.trimmingSpaces
        if value == "*" { return .exists }
        guard let tags = entityTags(value) else {
            throw .validation([
                .init(pointer: "If-Match", detail: "must be * or a list of entity-tags such as \"3\" (RFC 9110)")
            ])
        }
        return .oneOf(tags.filter { !$0.weak }.map(\.tag))
    }

    /// `#entity-tag` (RFC 9110 §8.8.3): comma-separated `[W/]"etagc*"`, etagc being visible ASCII
    /// but `"` (and obs-text). Nil when malformed.
    static func entityTags(_ text: Substring) -> [(tag: String, weak: Bool)]? {
        var result: [(String, Bool)] = []
        var rest = text[...]
        while true {
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { break }
            let weak = rest.hasPrefix("W/")
            if weak { rest = rest.dropFirst(2) }
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else { return nil }
            let opaque = rest[rest.index(after: rest.startIndex)..<close]
            guard
                opaque.unicodeScalars.allSatisfy({
                    $0.value == 0x21 || (0x23...0x7E).contains($0.value) || $0.value >= 0x80
                })
            else { return nil }
            result.append(("\"\(opaque)\"", weak))
            rest = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { break }
            guard rest.first == "," else { return nil }
            rest = rest.dropFirst()
        }
        return result.isEmpty ? nil : result
    }

    public static func preconditionFailed(current: Int?) -> HTTPProblem {
        HTTPProblem(
            status: 412, detail: "the resource changed since you read it; fetch it again and retry with its new ETag",
            headers: current.map { ["etag": make(version: $0)] } ?? [:])
    }
}

/// A read-modify-write of a versioned resource that never overwrites a concurrent change: load,
/// check `If-Match`, write conditionally on the version read; a lost race re-reads and tries again
/// (5 times, then 409), or is a 412 when the client named the version it expects. With `If-Match`,
/// a missing resource is a 412 too (RFC 9110 §13.1.1).
public enum OptimisticWrite {
    /// A path `id` that cannot name a resource is a 404 before any precondition is evaluated.
    public static func requireID(_ request: HTTPRequest, _ noun: String, valid: (String) -> Bool) throws(HTTPProblem) {
        let id = request.pathParameters["id"] ?? ""
        guard valid(id) else { throw HTTPProblem.notFound("no \(noun) with id \(id)") }
    }

    /// `attempt` writes conditionally on `version(current)` and returns nil when that condition failed.
    public static func run<Resource>(
        _ request: HTTPRequest, load: () async throws -> Resource, version: (Resource) -> Int,
        attempt: (Resource) async throws -> HTTPResponse?
    ) async throws -> HTTPResponse {
        let precondition = try ETag.precondition(request)
        for _ in 0..<5 {
            let current: Resource
            do { current = try await load() } catch let problem as HTTPProblem
                where problem.status == 404 && precondition != nil
            {
                throw ETag.preconditionFailed(current: nil)
            }
            if let precondition, !precondition.matches(version: version(current)) {
                throw ETag.preconditionFailed(current: version(current))
            }
            if let response = try await attempt(current) { return response }
            if precondition != nil { throw ETag.preconditionFailed(current: nil) }
        }
        throw HTTPProblem(status: 409, detail: "the resource is being changed by other requests; retry")
    }
}

extension HTTPResponse {
    /// A versioned resource as JSON: its ETag, and its Location when created (201).
    public static func versioned(_ value: some Encodable, version: Int, status: Int = 200, location: String) throws
        -> HTTPResponse
    {
        var response = try HTTPResponse.json(value, status: status)
        response.headers.set("etag", ETag.make(version: version))
        if status == 201 { response.headers.set("location", location) }
        return response
    }

    /// A 304 with the ETag when `If-None-Match` names this response's tag or is `*` (weak
    /// comparison, RFC 9110 §13.1.2); otherwise the response itself.
    public func notModified(ifNoneMatch request: HTTPRequest) -> HTTPResponse {
        guard let etag = headers["etag"], let header = request.headers["if-none-match"] else { return self }
        let value = header.trimmingSpaces
        let matches = value == "*" || (ETag.entityTags(value)?.contains { $0.tag == etag } ?? false)
        return matches ? HTTPResponse(status: 304, headers: ["etag": etag]) : self
    }
}
