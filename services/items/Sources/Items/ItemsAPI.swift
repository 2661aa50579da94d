import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LambdaRuntime
import ServiceKit

/// The items service. The owner of an item is the caller: the `sub` claim of the JWT that API
/// Gateway's authorizer verified. Items never reads the users table: a valid token for a user is
/// the proof that the user exists.
public struct ItemsAPI: Sendable {
    let store: ServiceStore
    var db: DynamoDBClient { store.db }
    var table: String { store.table }

    public init(db: DynamoDBClient, table: String, cursorSecret: String) {
        store = ServiceStore(db: db, table: table, cursorSecret: cursorSecret)
    }

    public var router: Router {
        var router = Router()
        router.on("POST /items") { request, _ in
            let caller = try caller(request)
            return try await store.idempotency.run(request) { try await create(request, owner: caller) }
        }
        router.on("GET /items") { request, _ in
            _ = try caller(request)
            return try await list(request)
        }
        router.on("GET /items/{id}") { request, _ in
            _ = try caller(request)
            return try respond(try await load(request))
        }
        router.on("PUT /items/{id}") { request, _ in
            try await modify(request, caller: try caller(request), replace: true)
        }
        router.on("PATCH /items/{id}") { request, _ in
            try await modify(request, caller: try caller(request), replace: false)
        }
        router.on("DELETE /items/{id}") { request, _ in try await delete(request, caller: try caller(request)) }
        return router
    }

    func caller(_ request: HTTPRequest) throws(HTTPProblem) -> String {
        if let subject = request.authorizer?.claim("sub"), !subject.isEmpty { return subject }
        throw HTTPProblem(status: 401, detail: "sign in: send a bearer token whose sub claim names the user")
    }

    static func validate(_ input: ItemInput, requireTitle: Bool) throws(HTTPProblem) {
        var validator = Validator()
        if let title = input.title {
            validator.check(
                !title.allSatisfy(\.isWhitespace) && title.unicodeScalars.count <= 200, "/title",
                "must be 1 to 200 characters, not all spaces")
        } else {
            validator.check(!requireTitle, "/title", "is required")
        }
        if let description = input.description {
            validator.check(description.count <= 2_000, "/description", "must be at most 2000 characters")
        }
        if let expiresAt = input.expiresAt {
            let now = Int(WallClock.nowMilliseconds() / 1000)
            validator.check(
                expiresAt > now && expiresAt <= now + 10 * 366 * 86_400, "/expiresAt",
                "must be a Unix time in seconds, in the future and within 10 years")
        }
        try validator.finish()
    }

    func respond(_ item: Item, status: Int = 200) throws -> HTTPResponse {
        var response = try HTTPResponse.json(item, status: status)
        response.headers.set("etag", ETag.make(version: item.version))
        if status == 201 { response.headers.set("location", "/items/\(item.id)") }
        return response
    }

    func create(_ request: HTTPRequest, owner: String) async throws -> HTTPResponse {
        let input = try request.decode(ItemInput.self)
        try Self.validate(input, requireTitle: true)
        if input.reopen != nil {
            throw HTTPProblem.validation([.init(pointer: "/reopen", detail: "applies to updates only")])
        }
        let now = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
        let item = Item(
            id: ResourceID.make(), owner: owner, title: String(input.title!.trimmingSpaces),
            description: input.description,
            status: input.status ?? .open, version: 1, createdAt: now, updatedAt: now, expiresAt: input.expiresAt)
        try await db.putItem(table: table, item: try Records.record(item), condition: .notExists("pk"))
        return try respond(item, status: 201)
    }

    func load(_ request: HTTPRequest) async throws -> Item {
        guard let id = request.pathParameters["id"], ResourceID.isValid(id),
            let record = try await db.getItem(table: table, key: Records.key(id), consistentRead: true)
        else { throw HTTPProblem.notFound("no item with id \(request.pathParameters["id"] ?? "")") }
        return try Records.item(record)
    }

    struct ItemPage: Encodable {
        var items: [Item]
        var nextCursor: String?
    }

    /// Lists by `owner` or by `status`, each through its index: never a Scan.
    func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let limit = try pageLimit(request)
        let start = try store.cursors.decode(request.query["cursor"])
        let (index, attribute, value): (String, String, String)
        switch (request.query["owner"], request.query["status"]) {
        case (let owner?, nil):
            guard !owner.isEmpty else {
                throw HTTPProblem.validation([.init(pointer: "owner", detail: "must not be empty")])
            }
            (index, attribute, value) = ("byOwner", "owner", owner)
        case (nil, let status?):
            guard Status(rawValue: status) != nil else {
                throw HTTPProblem.validation([
                    .init(
                        pointer: "status",
                        detail: "must be one of \(Status.allCases.map(\.rawValue).joined(separator: ", "))")
                ])
            }
            (index, attribute, value) = ("byStatus", "status", status)
        default:
            throw HTTPProblem.validation([.init(pointer: "owner", detail: "give exactly one of owner or status")])
        }
        let page = try await db.query(
            table: table, index: index, keyCondition: .equals(attribute, .s(value)), limit: limit, startKey: start)
        return try .json(
            ItemPage(items: try page.items.map(Records.item), nextCursor: store.cursors.encode(page.lastEvaluatedKey)))
    }

    /// Writes are conditional on the version and the status read, so a transition is validated
    /// against the state it replaces, even under concurrent requests.
    func modify(_ request: HTTPRequest, caller: String, replace: Bool) async throws -> HTTPResponse {
        let input = try request.decode(ItemInput.self)
        try Self.validate(input, requireTitle: replace)
        if replace, input.status == nil {
            throw HTTPProblem.validation([.init(pointer: "/status", detail: "is required")])
        }
        let expected = try ETag.expectedVersion(request)
        for _ in 0..<5 {
            let current = try await load(request)
            guard current.owner == caller else {
                throw HTTPProblem(status: 403, detail: "only the owner can change this item")
            }
            if let expected, expected != current.version { throw ETag.preconditionFailed(current: current.version) }
            var updated = current
            if let title = input.title { updated.title = String(title.trimmingSpaces) }
            if replace {
                updated.description = input.description
                updated.expiresAt = input.expiresAt
            } else {
                if let description = input.description { updated.description = description }
                if let expiresAt = input.expiresAt { updated.expiresAt = expiresAt }
            }
            if let status = input.status {
                guard current.status.allows(status, reopen: input.reopen == true) else {
                    throw HTTPProblem(
                        status: 409, title: "Invalid Transition",
                        detail: current.status == .done
                            ? "a done item re-opens only with \"reopen\": true"
                            : "\(current.status.rawValue) cannot become \(status.rawValue)",
                        errors: [
                            .init(
                                pointer: "/status",
                                detail: "cannot change from \(current.status.rawValue) to \(status.rawValue)")
                        ])
                }
                updated.status = status
            }
            if updated == current { return try respond(current) }
            updated.version += 1
            updated.updatedAt = WallClock.iso8601(milliseconds: WallClock.nowMilliseconds())
            do {
                try await db.putItem(
                    table: table, item: try Records.record(updated),
                    condition: .and([
                        .equals("version", .n(DynamoNumber(current.version))),
                        .equals("status", .s(current.status.rawValue)),
                    ]))
                return try respond(updated)
            } catch DynamoDBClientError.conditionalCheckFailed {
                if expected != nil { throw ETag.preconditionFailed(current: nil) }
            }
        }
        throw HTTPProblem(status: 409, detail: "the item is being changed by other requests; retry")
    }

    func delete(_ request: HTTPRequest, caller: String) async throws -> HTTPResponse {
        let expected = try ETag.expectedVersion(request)
        let current = try await load(request)
        guard current.owner == caller else {
            throw HTTPProblem(status: 403, detail: "only the owner can delete this item")
        }
        if let expected, expected != current.version { throw ETag.preconditionFailed(current: current.version) }
        do {
            try await db.deleteItem(
                table: table, key: Records.key(current.id),
                condition: .equals("version", .n(DynamoNumber(current.version))))
        } catch DynamoDBClientError.conditionalCheckFailed {
            throw ETag.preconditionFailed(current: nil)
        }
        return .noContent()
    }
}
