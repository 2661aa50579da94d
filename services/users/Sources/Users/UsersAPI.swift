import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LambdaRuntime
import ServiceKit

/// The users service: its routes and their handlers. Everything generic (cursors, ETags,
/// idempotency, problems) comes from the shared platform; this file holds the domain.
public struct UsersAPI: Sendable {
    let store: ServiceStore
    var db: DynamoDBClient { store.db }
    var table: String { store.table }

    public init(db: DynamoDBClient, table: String, cursorSecret: String) {
        store = ServiceStore(db: db, table: table, cursorSecret: cursorSecret)
    }

    public var router: Router {
        var router = Router()
        router.on("POST /users") { request, _ in try await store.idempotency.run(request) { try await create(request) }
        }
        router.on("GET /users") { request, _ in try await list(request) }
        router.on("GET /users/{id}") { request, _ in try await get(request) }
        router.on("PUT /users/{id}") { request, _ in try await modify(request, replace: true) }
        router.on("PATCH /users/{id}") { request, _ in try await modify(request, replace: false) }
        router.on("DELETE /users/{id}") { request, _ in try await delete(request) }
        return router
    }

    static func validate(email: String?, name: String?) throws(HTTPProblem) {
        var validator = Validator()
        if let email {
            validator.check(Validator.isEmail(email), "/email", "must be an email address such as ada@example.com")
        }
        if let name {
            validator.check(
                !name.allSatisfy(\.isWhitespace) && name.unicodeScalars.count <= 100, "/name",
                "must be 1 to 100 characters, not all spaces")
        }
        try validator.finish()
    }

    func respond(_ user: User, status: Int = 200) throws -> HTTPResponse {
        var response = try HTTPResponse.json(user, status: status)
        response.headers.set("etag", ETag.make(version: user.version))
        if status == 201 { response.headers.set("location", "/users/\(user.id)") }
        return response
    }

    func create(_ request: HTTPRequest) async throws -> HTTPResponse {
        let input = try request.decode(UserInput.self)
        try Self.validate(email: input.email, name: input.name)
        let now = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        let user = User(
            id: ResourceID.make(), email: input.email, name: String(input.name.trimmingSpaces), version: 1,
            createdAt: now, updatedAt: now)
        do {
            try await db.transactWrite([
                .put(table: table, item: try Records.item(user), condition: .notExists("pk")),
                .put(
                    table: table, item: Records.emailKey(user.email).merging(["userId": .s(user.id)]) { $1 },
                    condition: .notExists("pk")),
            ])
        } catch DynamoDBClientError.transactionCanceled(_, let reasons)
            where reasons.count == 2 && reasons[1].code == "ConditionalCheckFailed"
        {
            throw Self.emailTaken(user.email)
        }
        return try respond(user, status: 201)
    }

    static func emailTaken(_ email: String) -> HTTPProblem {
        HTTPProblem(
            status: 409, title: "Email Taken", detail: "another user already has the email \(email)",
            errors: [.init(pointer: "/email", detail: "is already registered")])
    }

    func load(_ request: HTTPRequest) async throws -> User {
        guard let id = request.pathParameters["id"], ResourceID.isValid(id),
            let item = try await db.getItem(table: table, key: Records.userKey(id), consistentRead: true)
        else { throw HTTPProblem.notFound("no user with id \(request.pathParameters["id"] ?? "")") }
        return try Records.user(item)
    }

    func get(_ request: HTTPRequest) async throws -> HTTPResponse {
        let user = try await load(request)
        if request.headers["if-none-match"] == ETag.make(version: user.version) {
            return HTTPResponse(status: 304, headers: ["etag": ETag.make(version: user.version)])
        }
        return try respond(user)
    }

    struct UserPage: Encodable {
        var items: [User]
        var nextCursor: String?
    }

    func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let limit = try pageLimit(request)
        let start = try store.cursors.decode(request.query["cursor"])
        let page = try await db.query(
            table: table, index: "byKind", keyCondition: .equals("kind", .s("user")), limit: limit, startKey: start)
        return try .json(
            UserPage(items: try page.items.map(Records.user), nextCursor: store.cursors.encode(page.lastEvaluatedKey)))
    }

    /// PUT replaces both fields, PATCH changes the ones given. With If-Match the write happens only
    /// on that version (else 412); without it the write still never overwrites a concurrent change:
    /// it re-reads and retries.
    func modify(_ request: HTTPRequest, replace: Bool) async throws -> HTTPResponse {
        let patch: UserPatch
        if replace {
            let input = try request.decode(UserInput.self)
            patch = UserPatch(email: input.email, name: input.name)
        } else {
            patch = try request.decode(UserPatch.self)
        }
        try Self.validate(email: patch.email, name: patch.name)
        let expected = try ETag.expectedVersion(request)
        for _ in 0..<5 {
            let current = try await load(request)
            if let expected, expected != current.version { throw ETag.preconditionFailed(current: current.version) }
            var updated = current
            if let email = patch.email { updated.email = email }
            if let name = patch.name { updated.name = String(name.trimmingSpaces) }
            if updated == current { return try respond(current) }
            updated.version += 1
            updated.updatedAt = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
            let unchanged = Condition.equals("version", .n(DynamoNumber(current.version)))
            var actions: [DynamoDBClient.TransactWrite] = [
                .put(table: table, item: try Records.item(updated), condition: unchanged)
            ]
            let emailChanged = updated.email.lowercased() != current.email.lowercased()
            if emailChanged {
                actions.append(
                    .delete(
                        table: table, key: Records.emailKey(current.email), condition: .equals("userId", .s(current.id))
                    ))
                actions.append(
                    .put(
                        table: table, item: Records.emailKey(updated.email).merging(["userId": .s(current.id)]) { $1 },
                        condition: .notExists("pk")))
            }
            do {
                try await db.transactWrite(actions)
                return try respond(updated)
            } catch DynamoDBClientError.transactionCanceled(_, let reasons) {
                if emailChanged, reasons.count == 3, reasons[2].code == "ConditionalCheckFailed" {
                    throw Self.emailTaken(updated.email)
                }
                if expected != nil { throw ETag.preconditionFailed(current: nil) }
                continue  // someone else wrote first: re-read and apply the change to their version
            }
        }
        throw HTTPProblem(status: 409, detail: "the user is being changed by other requests; retry")
    }

    func delete(_ request: HTTPRequest) async throws -> HTTPResponse {
        let expected = try ETag.expectedVersion(request)
        for _ in 0..<5 {
            let current = try await load(request)
            if let expected, expected != current.version { throw ETag.preconditionFailed(current: current.version) }
            do {
                try await db.transactWrite([
                    .delete(
                        table: table, key: Records.userKey(current.id),
                        condition: .equals("version", .n(DynamoNumber(current.version)))),
                    .delete(
                        table: table, key: Records.emailKey(current.email), condition: .equals("userId", .s(current.id))
                    ),
                ])
                return .noContent()
            } catch DynamoDBClientError.transactionCanceled {
                if expected != nil { throw ETag.preconditionFailed(current: nil) }
            }
        }
        throw HTTPProblem(status: 409, detail: "the user is being changed by other requests; retry")
    }
}
