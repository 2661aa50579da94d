import AWSCore
import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LambdaRuntime
import Logging
import Platform

/// `Idempotency-Key` for POST: the first request with a key runs; a retry by the same caller with
/// the same key and request gets the first response back and creates nothing; the same key with a
/// different request is a 422. A record is per caller and route, so one caller never receives
/// another's response. While the first request runs, its record is a lease that ends with the
/// invocation's deadline: a request that crashed does not block the key after that. Records live
/// in the service's own table for 24 hours (TTL: past it a record is absent, whenever the sweep
/// deletes it) under attribute names no index may use.
public struct IdempotencyStore: Sendable {
    /// Every attribute a record writes (besides the table's partition key and TTL attribute).
    /// `serviceContractViolations` refuses a table whose index keys use one of these names.
    public static let attributePrefix = "idempotency_"
    static let state = "idempotency_state", fingerprint = "idempotency_fingerprint"
    static let leaseUntil = "idempotency_leaseUntil", status = "idempotency_status", body = "idempotency_body"
    static let replayedHeaders = ["content-type", "etag", "location"]

    let db: DynamoDBClient
    let table: String
    let ttlAttribute: String
    let leaseSeconds: Int

    /// `leaseSeconds` bounds a pending record when no invocation deadline is known (local runs):
    /// give the function's timeout.
    public init(db: DynamoDBClient, table: String, ttlAttribute: String = "expiresAt", leaseSeconds: Int = 30) {
        self.db = db
        self.table = table
        self.ttlAttribute = ttlAttribute
        self.leaseSeconds = leaseSeconds
    }

    public func run(_ request: HTTPRequest, caller: String, _ operation: () async throws -> HTTPResponse)
        async throws -> HTTPResponse
    {
        guard let key = request.headers["idempotency-key"] else { return try await operation() }
        guard (1...255).contains(key.utf8.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw HTTPProblem.validation([
                .init(pointer: "Idempotency-Key", detail: "must be 1 to 255 visible ASCII characters")
            ])
        }
        let recordKey = Self.recordKey(
            caller: caller, route: request.routeKey ?? "\(request.method) \(request.rawPath)", key: key)
        let fingerprint = Self.fingerprint(request)
        let now = WallClock.nowMilliseconds() / 1000
        // The lease ends when this invocation must have answered.
        let leaseEnd = (LambdaContext.current.map { $0.deadlineMilliseconds / 1000 } ?? now + Int64(leaseSeconds)) + 1
        do {
            try await db.putItem(
                table: table,
                item: recordKey.merging([
                    Self.state: .s("pending"), Self.fingerprint: .s(fingerprint),
                    Self.leaseUntil: .n(DynamoNumber(Int(leaseEnd))), ttlAttribute: .n(DynamoNumber(Int(now + 86_400))),
                ]) { $1 },
                condition: .or([
                    .notExists("pk"),
                    // Past its TTL a record is gone, although the sweep deletes it only within days.
                    .compare(ttlAttribute, .lt, .n(DynamoNumber(Int(now)))),
                    .and([
                        .equals(Self.state, .s("pending")), .compare(Self.leaseUntil, .lt, .n(DynamoNumber(Int(now)))),
                        .equals(Self.fingerprint, .s(fingerprint)),
                    ]),
                ]))
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
            Self.state: .s("done"), Self.status: .n(DynamoNumber(response.status)), Self.body: .s(response.bodyText),
        ]
        for name in Self.replayedHeaders {
            if let value = response.headers[name] { stored["\(Self.attributePrefix)h_\(name)"] = .s(value) }
        }
        var update = Update()
        for (name, value) in stored { update = update.set(name, value) }
        do {
            try await db.updateItem(table: table, key: recordKey, update: update, returnValues: .none)
        } catch {
            // The resource exists: the caller gets its answer; a retry after the lease re-runs the
            // operation, which the resource's own conditions (unique keys, versions) guard.
            IdempotencyStore.logger.warning("idempotency record not completed: \(error)")
        }
        return response
    }

    static let logger = Logger(label: "idempotency")

    /// Where a caller's record for a route and key lives: one caller never reads another's.
    public static func recordKey(caller: String, route: String, key: String) -> Item {
        ["pk": .s("IDEMPOTENCY#\(hex(SHA256.hash(Array("\(caller)\u{0}\(route)\u{0}\(key)".utf8))))")]
    }

    /// What makes a retry "the same request": method, path and body.
    public static func fingerprint(_ request: HTTPRequest) -> String {
        hex(SHA256.hash(Array("\(request.method) \(request.rawPath)\n".utf8) + request.body))
    }

    /// The record a request left when it died mid-way (tests: a crashed invocation).
    public static func pendingRecord(_ recordKey: Item, fingerprint: String, leaseUntil: Int) -> Item {
        recordKey.merging([
            state: .s("pending"), Self.fingerprint: .s(fingerprint), Self.leaseUntil: .n(DynamoNumber(leaseUntil)),
        ]) { $1 }
    }

    func replay(_ recordKey: Item, fingerprint: String) async throws -> HTTPResponse {
        guard let record = try await db.getItem(table: table, key: recordKey, consistentRead: true) else {
            throw HTTPProblem(
                status: 409, detail: "a request with this Idempotency-Key is being processed; retry shortly")
        }
        guard record[Self.fingerprint]?.stringValue == fingerprint else {
            throw HTTPProblem(
                status: 422, title: "Idempotency Key Reused",
                detail: "this Idempotency-Key was used with a different request")
        }
        guard record[Self.state]?.stringValue == "done",
            let status = record[Self.status]?.numberValue.flatMap({ Int($0.description) })
        else {
            throw HTTPProblem(
                status: 409, detail: "a request with this Idempotency-Key is being processed; retry shortly",
                headers: ["retry-after": "1"])
        }
        var headers: HTTPHeaders = ["idempotent-replayed": "true"]
        for name in Self.replayedHeaders {
            if let value = record["\(Self.attributePrefix)h_\(name)"]?.stringValue { headers.set(name, value) }
        }
        return HTTPResponse(status: status, headers: headers, body: Array((record[Self.body]?.stringValue ?? "").utf8))
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
