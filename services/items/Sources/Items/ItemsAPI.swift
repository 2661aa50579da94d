import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import Platform
import ServiceKit

/// The items service. The owner of an item is the caller: the `sub` claim of the JWT that API
/// Gateway's authorizer verified (the same value as the owner's user id). Items are private to
/// their owner: another owner's item answers 404 as a missing one does (its existence is not
/// revealed) unless the caller has `items.admin`, which is also what listing another owner's items
/// takes. Items never reads the users table: a valid token is the proof that the user exists.
public struct ItemsAPI: HTTPService {
    public static let name = "items"
    static let adminScope = "items.admin"
    let store: ServiceStore
    var db: DynamoDBClient { store.db }
    var table: String { store.table }

    public init(context: ServiceContext) { store = context.store("items") }

    public var router: Router {
        var router = Router()
        router.on("POST /items") { request, _ in
            let caller = try Caller(request)
            return try await store.idempotency.run(request, caller: caller.subject) {
                try await create(request, owner: caller.subject)
            }
        }
        router.on("GET /items") { request, _ in try await list(request, caller: try Caller(request)) }
        router.on("GET /items/export") { request, _ in try await export(request, caller: try Caller(request)) }
        router.on("GET /items/{id}") { request, _ in
            let item = try await load(request, caller: try Caller(request))
            return try respond(item).notModified(ifNoneMatch: request)
        }
        router.on("PUT /items/{id}") { request, _ in
            try await modify(request, caller: try Caller(request), replace: true)
        }
        router.on("PATCH /items/{id}") { request, _ in
            try await modify(request, caller: try Caller(request), replace: false)
        }
        router.on("DELETE /items/{id}") { request, _ in try await delete(request, caller: try Caller(request)) }
        return router
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
            // Code points, as the schema's maxLength counts them, so at most 8 KB of UTF-8: grapheme
            // clusters would let combining marks stack past DynamoDB's 400 KB item.
            validator.check(
                description.unicodeScalars.count <= 2_000, "/description", "must be at most 2000 characters")
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
        try .versioned(item, version: item.version, status: status, location: "/items/\(item.id)")
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

    /// The item the path names, if the caller may see it; otherwise the same 404 as a missing one.
    func load(_ request: HTTPRequest, caller: Caller) async throws -> Item {
        let id = request.pathParameters["id"] ?? ""
        guard ResourceID.isValid(id),
            let record = try await db.getItem(table: table, key: Records.key(id), consistentRead: true),
            case let item = try Records.item(record), caller.mayActOn(owner: item.owner, adminScope: Self.adminScope),
            Records.isLive(item, now: Int(WallClock.nowMilliseconds() / 1000))
        else { throw HTTPProblem.notFound("no item with id \(id)") }
        return item
    }

    /// The caller's items (`?owner=` another owner's, with `items.admin`), optionally only those
    /// with one `status`: each through an owner-partitioned index, never a Scan.
    func list(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        let limit = try pageLimit(request)
        let listing = try Listing(request, caller: caller)
        // A cursor serves only the listing that issued it (this owner, this filter).
        let scope = "GET /items \(listing.owner) \(request.query["status"] ?? "")"
        let start = try await store.cursors.decode(request.query["cursor"], scope: scope)
        let page = try await db.query(
            table: table, index: listing.index, keyCondition: listing.keyCondition,
            filter: Records.live(now: Int(WallClock.nowMilliseconds() / 1000)), limit: limit, startKey: start)
        return try .json(
            ListPage(
                items: try page.items.map(Records.item),
                nextCursor: try await store.cursors.encode(page.lastEvaluatedKey, scope: scope)))
    }

    /// The whole listing as NDJSON (one item per line), read page by page and written as each
    /// page arrives: memory holds one page whatever the count. Streamed to the client where the
    /// route's integration streams (`make run`); gathered into one answer (at most
    /// `HTTPResponse.maxBufferedBytes`) where it does not.
    func export(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        let listing = try Listing(request, caller: caller)
        return .streamed(contentType: "application/x-ndjson") { [db, table] body in
            var start: DynamoDBModel.Item?
            repeat {
                let page = try await db.query(
                    table: table, index: listing.index, keyCondition: listing.keyCondition,
                    filter: Records.live(now: Int(WallClock.nowMilliseconds() / 1000)), limit: Self.exportPage,
                    startKey: start)
                var lines: [UInt8] = []
                for record in page.items {
                    lines += try JSON.encode(try Records.item(record))
                    lines.append(UInt8(ascii: "\n"))
                }
                try await body.write(lines)
                start = page.lastEvaluatedKey
            } while start != nil
        }
    }

    /// Items per Query page of an export (each under DynamoDB's 1 MB page).
    static let exportPage = 100

    /// Which index and key condition a listing reads, after checking the caller may read it.
    struct Listing: Sendable {
        let owner: String
        let index: String
        let keyCondition: Condition

        init(_ request: HTTPRequest, caller: Caller) throws(HTTPProblem) {
            let owner = request.query["owner"] ?? caller.subject
            guard !owner.isEmpty else {
                throw HTTPProblem.validation([.init(pointer: "owner", detail: "must not be empty")])
            }
            guard caller.mayActOn(owner: owner, adminScope: ItemsAPI.adminScope) else {
                throw HTTPProblem(
                    status: 403, title: "Forbidden", detail: "listing another owner's items needs the scope items.admin"
                )
            }
            self.owner = owner
            if let status = request.query["status"] {
                guard Status(rawValue: status) != nil else {
                    throw HTTPProblem.validation([
                        .init(
                            pointer: "status",
                            detail: "must be one of \(Status.allCases.map(\.rawValue).joined(separator: ", "))")
                    ])
                }
                index = "byOwnerStatus"
                keyCondition = .and([.equals("owner", .s(owner)), .beginsWith("statusKey", .s("\(status)#"))])
            } else {
                index = "byOwner"
                keyCondition = .equals("owner", .s(owner))
            }
        }
    }

    /// Writes are conditional on the version and the status read, so a transition is validated
    /// against the state it replaces, even under concurrent requests.
    func modify(_ request: HTTPRequest, caller: Caller, replace: Bool) async throws -> HTTPResponse {
        let input = try request.decode(ItemInput.self)
        try Self.validate(input, requireTitle: replace)
        if replace, input.status == nil {
            throw HTTPProblem.validation([.init(pointer: "/status", detail: "is required")])
        }
        try OptimisticWrite.requireID(request, "item", valid: ResourceID.isValid)
        return try await OptimisticWrite.run(
            request, load: { try await load(request, caller: caller) }, version: \.version
        ) { current in
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
                return nil
            }
        }
    }

    func delete(_ request: HTTPRequest, caller: Caller) async throws -> HTTPResponse {
        try OptimisticWrite.requireID(request, "item", valid: ResourceID.isValid)
        return try await OptimisticWrite.run(
            request, load: { try await load(request, caller: caller) }, version: \.version
        ) { current in
            do {
                try await db.deleteItem(
                    table: table, key: Records.key(current.id),
                    condition: .equals("version", .n(DynamoNumber(current.version))))
                return .noContent()
            } catch DynamoDBClientError.conditionalCheckFailed {
                return nil
            }
        }
    }
}
