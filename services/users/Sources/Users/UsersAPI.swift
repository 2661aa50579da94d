import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import Platform
import ServiceKit

/// The users service: its routes and their handlers. Everything generic (the caller, cursors,
/// ETags, idempotency, problems) comes from the shared platform; this file holds the domain.
///
/// A user is an identity: its id is the `sub` of the token that created it, so an item's owner and
/// its user's id are the same value. A caller reads, changes and deletes only its own user; the
/// `users.admin` scope acts on any user and is the only way to list them (the route's scopes,
/// enforced by API Gateway's authorizer, in service.json). Another user's id answers 404: whether
/// a user exists is not revealed.
public struct UsersAPI: HTTPService {
    public static let name = "users"
    static let adminScope = "users.admin"
    let store: ServiceStore
    var db: DynamoDBClient { store.db }
    var table: String { store.table }

    public init(context: ServiceContext) { store = context.store("users") }

    public var router: Router {
        var router = Router()
        router.on("POST /users") { request, _ in
            let caller = try Caller(request)
            return try await store.idempotency.run(request, caller: caller.subject) {
                try await create(request, id: caller.subject)
            }
        }
        router.on("GET /users") { request, _ in try await list(request, caller: try Caller(request)) }
        router.on("GET /users/{id}") { request, _ in try await get(request, caller: try Caller(request)) }
        router.on("PUT /users/{id}") { request, _ in
            try await modify(request, caller: try Caller(request), replace: true)
        }
        router.on("PATCH /users/{id}") { request, _ in
            try await modify(request, caller: try Caller(request), replace: false)
        }
        router.on("DELETE /users/{id}") { request, _ in try await delete(request, caller: try Caller(request)) }
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
        try .versioned(user, version: user.version, status: status, location: "/users/\(user.id)")
    }

    /// The caller's own user: its id is the token's subject. A second POST by the same subject is a 409.
    func create(_ request: HTTPRequest, id: String) async throws -> HTTPResponse {
        let input = try request.decode(UserInput.self)
        try Self.validate(email: input.email, name: input.name)
        let now = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        let user = User(
            id: id, email: Records.nfc(input.email), name: String(input.name.trimmingSpaces), version: 1,
            createdAt: now,
            updatedAt: now)
        do {
            try await db.transactWrite([
                .put(table: table, item: try Records.item(user), condition: .notExists("pk")),
                .put(
                    table: table, item: Records.emailKey(user.email).merging(["userId": .s(user.id)]) { $1 },
                    condition: .notExists("pk")),
            ])
        } catch DynamoDBClientError.transactionCanceled(_, let reasons) where reasons.count == 2 {
            if reasons[0].code == "ConditionalCheckFailed" {
                throw HTTPProblem(
                    status: 409, title: "User Exists",
                    detail: "you already have a user (\(id)): change it with PUT or PATCH /users/\(id)")
            }
            if reasons[1].code == "ConditionalCheckFailed" { throw Self.emailTaken(user.email) }
            throw DynamoDBClientError.transactionCanceled(message: "create user", reasons: reasons)
        }
        return try respond(user, status: 201)
    }

    static func emailTaken(_ email: String) -> HTTPProblem {
        HTTPProblem(
            status: 409, title: "Email Taken", detail: "another user already has the email \(email)",
            errors: [.init(pointer: "/email", detail: "is already registered")])
    }

    /// The user the path names, if the caller may see it; otherwise the same 404 as a missing one.
    func load(_ request: HTTPRequest, caller: Caller) async throws -> User {
        let id = request.pathParameters["id"] ?? ""
        guard Self.isUserID(id), caller.mayActOn(owner: id, adminScope: Self.adminScope),
            let item = try await db.getItem(table: table, key: Records.userKey(id), consistentRead: true)
        else { throw HTTPProblem.notFound("no user with id \(id)") }
        return try Records.user(item)
    }

    /// A token subject as a path segment: 1 to 255 bytes, no control characters.
    static func isUserID(_ id: String) -> Bool {
        (1...255).contains(id.utf8.count) && !id.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    func get(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        let user = try await load(request, caller: caller)
        return try respond(user).notModified(ifNoneMatch: request)
    }

    /// Every user, from all shards of `byShard`, merged: administrators only, checked here too
    /// (the route's scopes already say so at the gateway and in RouteAccess).
    func list(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        guard caller.has(Self.adminScope) else {
            throw HTTPProblem(status: 403, detail: "listing users needs the \(Self.adminScope) scope")
        }
        let limit = try pageLimit(request)
        let position = try await store.cursors.decode(request.query["cursor"], scope: "GET /users")
        let page = try await Records.byShard.page(db: db, table: table, limit: limit, position: position)
        return try .json(
            ListPage(
                items: try page.items.map(Records.user),
                nextCursor: try await store.cursors.encode(page.next, scope: "GET /users")))
    }

    /// PUT replaces both fields, PATCH changes the ones given (OptimisticWrite: If-Match, retries).
    func modify(_ request: HTTPRequest, caller: Caller, replace: Bool) async throws -> HTTPResponse {
        let patch: UserPatch
        if replace {
            let input = try request.decode(UserInput.self)
            patch = UserPatch(email: input.email, name: input.name)
        } else {
            patch = try request.decode(UserPatch.self)
        }
        try Self.validate(email: patch.email, name: patch.name)
        try OptimisticWrite.requireID(request, "user", valid: Self.isUserID)
        return try await OptimisticWrite.run(
            request, load: { try await load(request, caller: caller) }, version: \.version
        ) { current in
            var updated = current
            if let email = patch.email { updated.email = Records.nfc(email) }
            if let name = patch.name { updated.name = String(name.trimmingSpaces) }
            // Compared as stored (bytes): Swift's == would call a changed normalization unchanged.
            if Array(updated.email.utf8) == Array(current.email.utf8), updated.name == current.name {
                return try respond(current)
            }
            updated.version += 1
            updated.updatedAt = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
            let unchanged = Condition.equals("version", .n(DynamoNumber(current.version)))
            var actions: [DynamoDBClient.TransactWrite] = [
                .put(table: table, item: try Records.item(updated), condition: unchanged)
            ]
            let emailChanged = !Records.sameEmail(updated.email, current.email)
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
                return nil  // someone else wrote first
            }
        }
    }

    func delete(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        try OptimisticWrite.requireID(request, "user", valid: Self.isUserID)
        return try await OptimisticWrite.run(
            request, load: { try await load(request, caller: caller) }, version: \.version
        ) { current in
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
                return nil
            }
        }
    }
}
