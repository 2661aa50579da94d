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
    /// Every user is in `byShard` under one of its shard keys, so the admin listing never puts all
    /// users under one partition key value (shards × 1,000 writes/s instead of 1,000). Its keys and
    /// shard count are service.json's, embedded at build time (the declaration is checked by the
    /// tests and before every deploy, so this cannot fail in a build that passed them).
    static let byShard = try! ShardedIndex(
        declaration: PackageResources.service_json, table: "users", index: "byShard", prefix: "user")

    static func userKey(_ id: String) -> Item { ["pk": .s("USER#\(id)")] }

    /// One person, one reservation: keyed by the email's canonical form, compared as bytes.
    static func emailKey(_ email: String) -> Item { ["pk": .s("EMAIL#\(canonical(email: email))")] }

    /// The form two spellings of one address share: NFC (so "é" precomposed and "e" + U+0301 are
    /// one), then case-folded (upper- then lower-cased, which folds "ß" to "ss" and "ς" to "σ" as
    /// Unicode's full case folding does; the standard library has no folding of its own), then NFC
    /// again. DynamoDB compares keys as bytes, so every comparison goes through this form.
    static func canonical(email: String) -> String {
        nfc(nfc(email).uppercased().lowercased())
    }

    /// Unicode Normalization Form C.
    static func nfc(_ text: String) -> String { String(decoding: text._nfcCodeUnits, as: UTF8.self) }

    /// Whether two emails hold one reservation.
    static func sameEmail(_ a: String, _ b: String) -> Bool {
        Array(canonical(email: a).utf8) == Array(canonical(email: b).utf8)
    }

    static func item(_ user: User) throws -> Item {
        var item = try ItemCoding.encode(user)
        item["pk"] = .s("USER#\(user.id)")
        item["shard"] = byShard.shard(for: user.id)  // the sparse byShard index lists users only
        return item
    }

    static func user(_ item: Item) throws -> User { try ItemCoding.decode(User.self, from: item) }
}
