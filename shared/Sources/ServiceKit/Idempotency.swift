import AWSCore
import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LambdaRuntime

/// `Idempotency-Key` for POST: the first request with a key runs; a retry with the same key and
/// the same request gets the first response back and creates nothing; the same key with a
/// different request is a 422. Records live in the service's own table for 24 hours (TTL).
public struct IdempotencyStore: Sendable {
    let db: DynamoDBClient
    let table: String
    let ttlAttribute: String

    public init(db: DynamoDBClient, table: String, ttlAttribute: String = "expiresAt") {
        self.db = db
        self.table = table
        self.ttlAttribute = ttlAttribute
    }

    public func run(_ request: HTTPRequest, _ operation: () async throws -> HTTPResponse) async throws -> HTTPResponse {
        guard let key = request.headers["idempotency-key"] else { return try await operation() }
        guard (1...255).contains(key.utf8.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw HTTPProblem.validation([
                .init(pointer: "Idempotency-Key", detail: "must be 1 to 255 visible ASCII characters")
            ])
        }
        let recordKey: Item = ["pk": .s("IDEMPOTENCY#\(request.method) \(request.routeKey ?? request.rawPath)#\(key)")]
        let fingerprint = hex(SHA256.hash(Array("\(request.method) \(request.rawPath)\n".utf8) + request.body))
        let expires = WallClock.nowMilliseconds() / 1000 + 86_400
        do {
            try await db.putItem(
                table: table,
                item: recordKey.merging([
                    "state": .s("pending"), "fingerprint": .s(fingerprint),
                    ttlAttribute: .n(DynamoNumber(Int(expires))),
                ]) { $1 },
                condition: .notExists("pk"))
        } catch DynamoDBClientError.conditionalCheckFailed {
            return try await replay(recordKey, fingerprint: fingerprint)
        }
        let response: HTTPResponse
        do {
            response = try await operation()
        } catch {
            // Failures are not remembered: the client may fix the request and retry with the key.
            _ = try? await db.deleteItem(table: table, key: recordKey)
            throw error
        }
        var stored: Item = [
            "state": .s("done"), "status": .n(DynamoNumber(response.status)), "body": .s(response.bodyText),
        ]
        for name in ["content-type", "etag", "location"] {
            if let value = response.headers[name] { stored["h_\(name)"] = .s(value) }
        }
        var update = Update()
        for (name, value) in stored { update = update.set(name, value) }
        try await db.updateItem(table: table, key: recordKey, update: update, returnValues: .none)
        return response
    }

    func replay(_ recordKey: Item, fingerprint: String) async throws -> HTTPResponse {
        guard let record = try await db.getItem(table: table, key: recordKey, consistentRead: true) else {
            throw HTTPProblem(
                status: 409, detail: "a request with this Idempotency-Key is being processed; retry shortly")
        }
        guard record["fingerprint"]?.stringValue == fingerprint else {
            throw HTTPProblem(
                status: 422, title: "Idempotency Key Reused",
                detail: "this Idempotency-Key was used with a different request")
        }
        guard record["state"]?.stringValue == "done",
            let status = record["status"]?.numberValue.flatMap({ Int($0.description) })
        else {
            throw HTTPProblem(
                status: 409, detail: "a request with this Idempotency-Key is being processed; retry shortly")
        }
        var headers: HTTPHeaders = ["idempotent-replayed": "true"]
        for name in ["content-type", "etag", "location"] {
            if let value = record["h_\(name)"]?.stringValue { headers.set(name, value) }
        }
        return HTTPResponse(status: status, headers: headers, body: Array((record["body"]?.stringValue ?? "").utf8))
    }
}

/// Time-ordered unique ids (ULID layout: 48-bit milliseconds, 80 random bits, Crockford base32).
public enum ResourceID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func make() -> String {
        var value =
            (UInt128(UInt64(WallClock.nowMilliseconds())) << 80) | UInt128.random(in: 0...(UInt128(1) << 80 - 1))
        var characters = [Character](repeating: "0", count: 26)
        for i in (0..<26).reversed() {
            characters[i] = alphabet[Int(value & 31)]
            value >>= 5
        }
        return String(characters)
    }

    public static func isValid(_ text: String) -> Bool {
        text.count == 26 && text.allSatisfy { alphabet.contains($0) }
    }
}
