import DynamoDBModel
import ServiceKit

/// A user as the API shows it.
public struct User: Codable, Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var version: Int
    public var createdAt: String
    public var updatedAt: String
}

/// `POST /users` and `PUT /users/{id}` bodies.
struct UserInput: Decodable {
    var email: String
    var name: String
}

/// `PATCH /users/{id}` body: every field optional.
struct UserPatch: Decodable {
    var email: String?
    var name: String?
}

/// How users and their email reservations sit in the service's one table.
enum Records {
    /// Every user is in `byShard` under one of 16 shard keys, so the admin listing never puts all
    /// users under one partition key value (16 × 1,000 writes/s instead of 1,000).
    static let byShard = ShardedIndex(
        name: "byShard", attribute: "shard", sortAttribute: "id", prefix: "user", shards: 16)

    static func userKey(_ id: String) -> Item { ["pk": .s("USER#\(id)")] }

    /// Emails are unique case-insensitively: the reservation is keyed by the lower-cased email.
    static func emailKey(_ email: String) -> Item { ["pk": .s("EMAIL#\(email.lowercased())")] }

    static func item(_ user: User) throws -> Item {
        var item = try ItemCoding.encode(user)
        item["pk"] = .s("USER#\(user.id)")
        item["shard"] = byShard.shard(for: user.id)  // the sparse byShard index lists users only
        return item
    }

    static func user(_ item: Item) throws -> User { try ItemCoding.decode(User.self, from: item) }
}
