import AWSCore
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LambdaRuntime

/// Opaque, tamper-evident pagination cursors: a DynamoDB LastEvaluatedKey, base64url-encoded and
/// signed with HMAC-SHA256. A client can pass a cursor back but cannot forge or alter one, nor use
/// one outside the listing that issued it: the signature covers a `scope` (e.g. the route and the
/// owner listed), so another caller's cursor is refused like a forged one.
public struct CursorCodec: Sendable {
    let secret: LazySecret

    /// `secret` comes from Secrets Manager when a listing first needs it (`ServiceSecrets`).
    public init(secret: LazySecret) { self.secret = secret }

    public init(secret: String) { self.init(secret: .fixed(secret)) }

    public func encode(_ lastKey: Item?, scope: String = "") async throws(HTTPProblem) -> String? {
        guard let lastKey else { return nil }
        let payload = AttributeValue.wire(lastKey).serialized()
        return Self.base64url(payload) + "." + Self.base64url(try await signature(payload, scope: scope))
    }

    func signature(_ payload: [UInt8], scope: String) async throws(HTTPProblem) -> [UInt8] {
        HMAC.sha256(key: Array(try await key().utf8), message: Array(scope.utf8) + [0] + payload)
    }

    /// The signing key; when it cannot be had, a 500 problem, its cause logged (the next request
    /// tries again).
    func key() async throws(HTTPProblem) -> String {
        do {
            return try await secret.value()
        } catch {
            let context = LambdaContext.current
            context?.logger.error("the cursor secret is unavailable: \(error)")
            throw HTTPProblem(
                status: 500, detail: "page cursors cannot be signed right now; request id \(context?.requestID ?? "-")")
        }
    }

    /// The key a cursor stands for, or a 400 problem naming the `cursor` parameter.
    public func decode(_ cursor: String?, scope: String = "") async throws(HTTPProblem) -> Item? {
        guard let cursor, !cursor.isEmpty else { return nil }
        let invalid = HTTPProblem.validation([.init(pointer: "cursor", detail: "is not a cursor this API issued")])
        let parts = cursor.split(separator: ".")
        guard parts.count == 2, let payload = Self.unbase64url(parts[0]), let signature = Self.unbase64url(parts[1])
        else { throw invalid }
        guard Self.constantTimeEqual(signature, try await self.signature(payload, scope: scope)),
            let json = try? JSONValue.parse(payload), let item = try? AttributeValue.item(wire: json)
        else { throw invalid }
        return item
    }

    static func base64url(_ bytes: [UInt8]) -> String { Base64.encodeURL(bytes) }

    static func unbase64url(_ text: Substring) -> [UInt8]? { Base64.decodeURL(text) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// `limit` query parameter: 1...max, default `defaultValue`; anything else is a 400 naming `limit`.
public func pageLimit(_ request: HTTPRequest, default defaultValue: Int = 20, max: Int = 100) throws(HTTPProblem) -> Int
{
    guard let text = request.query["limit"] else { return defaultValue }
    guard let value = Int(text), (1...max).contains(value) else {
        throw .validation([.init(pointer: "limit", detail: "must be an integer from 1 to \(max)")])
    }
    return value
}
