import HTTPAPI

/// Optimistic concurrency over HTTP: a version number travels as a strong ETag (`"3"`), and
/// `If-Match` names the version a client last saw.
public enum ETag {
    public static func make(version: Int) -> String { "\"\(version)\"" }

    /// The version `If-Match` requires, nil when absent or `*`; a malformed header is a 400.
    public static func expectedVersion(_ request: HTTPRequest) throws(HTTPProblem) -> Int? {
        guard let header = request.headers["if-match"].map({ String($0.trimmingSpaces) }) else { return nil }
        if header == "*" { return nil }
        var text = Substring(header)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        guard text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2,
            let version = Int(text.dropFirst().dropLast())
        else {
            throw .validation([.init(pointer: "If-Match", detail: "must be an ETag this API returned, such as \"3\"")])
        }
        return version
    }

    public static func preconditionFailed(current: Int?) -> HTTPProblem {
        HTTPProblem(
            status: 412, detail: "the resource changed since you read it; fetch it again and retry with its new ETag",
            headers: current.map { ["etag": make(version: $0)] } ?? [:])
    }
}

/// Collects field errors, then throws them together as one 400 problem.
public struct Validator {
    public private(set) var errors: [HTTPProblem.FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ pointer: String, _ detail: String) {
        if !condition { errors.append(.init(pointer: pointer, detail: detail)) }
    }

    public func finish() throws(HTTPProblem) {
        if !errors.isEmpty { throw .validation(errors) }
    }

    /// A pragmatic email check: one @, a non-empty local part, a dotted domain, no spaces, ≤ 254 bytes.
    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, text.utf8.count <= 254,
            !text.contains(where: { $0 == " " || $0.isNewline })
        else {
            return false
        }
        let domainLabels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domainLabels.count >= 2 && domainLabels.allSatisfy { !$0.isEmpty }
    }
}
