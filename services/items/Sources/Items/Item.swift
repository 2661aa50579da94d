import DynamoDB
import DynamoDBModel

/// An item as the API shows it.
public struct Item: Codable, Sendable, Equatable {
    public var id: String
    public var owner: String
    public var title: String
    public var description: String?
    public var status: Status
    public var version: Int
    public var createdAt: String
    public var updatedAt: String
    /// Unix epoch seconds after which the item disappears (DynamoDB TTL).
    public var expiresAt: Int?
}

public enum Status: String, Codable, Sendable, CaseIterable {
    case open
    case inProgress = "in_progress"
    case done
    case cancelled

    /// The workflow. `done` re-opens only when the request says `"reopen": true`; `cancelled` is final.
    func allows(_ next: Status, reopen: Bool) -> Bool {
        if next == self { return true }
        switch (self, next) {
        case (.open, .inProgress), (.open, .done), (.open, .cancelled): return true
        case (.inProgress, .open), (.inProgress, .done), (.inProgress, .cancelled): return true
        case (.done, .open): return reopen
        default: return false
        }
    }
}

/// `POST` and `PUT` bodies; `PATCH` uses the same fields, all optional.
struct ItemInput: Decodable {
    var title: String?
    var description: String?
    var status: Status?
    var expiresAt: Int?
    var reopen: Bool?
}

enum Records {
    static func key(_ id: String) -> DynamoDBModel.Item { ["pk": .s("ITEM#\(id)")] }

    /// An item past its `expiresAt` is gone for every reader at once, although DynamoDB's TTL sweep
    /// deletes it only within days (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html).
    static func isLive(_ item: Item, now: Int) -> Bool { item.expiresAt.map { $0 > now } ?? true }

    /// The same rule as a read's filter.
    static func live(now: Int) -> Condition {
        .or([.notExists("expiresAt"), .compare("expiresAt", .gt, .n(DynamoNumber(now)))])
    }

    /// `byOwner` (owner, id) lists an owner's items; `byOwnerStatus` (owner, statusKey) filters
    /// them by status as a sort-key prefix. Both partition by owner: no key value is shared by
    /// every caller, so one owner's traffic never throttles another's.
    static func record(_ item: Item) throws -> DynamoDBModel.Item {
        var record = try ItemCoding.encode(item)
        record["pk"] = .s("ITEM#\(item.id)")
        record["statusKey"] = .s("\(item.status.rawValue)#\(item.id)")
        return record
    }

    static func item(_ record: DynamoDBModel.Item) throws -> Item { try ItemCoding.decode(Item.self, from: record) }
}
