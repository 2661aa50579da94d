import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding

/// A global secondary index whose partition key is spread over `shards` values (`<prefix>#0` …
/// `<prefix>#N-1`, chosen by a stable hash of the item's id), so no single key value takes every
/// write: DynamoDB serves about 1,000 write and 3,000 read units per second per partition key
/// value, and a throttled index write throttles the table write. A listing reads every shard in
/// parallel and merges them into one page with one cursor (each shard's position).
public struct ShardedIndex: Sendable {
    public let name: String
    /// The index's partition key attribute; its sort key is `sortAttribute`.
    public let attribute: String
    public let sortAttribute: String
    public let prefix: String
    public let shards: Int
    /// The table's own key attributes (part of an index's LastEvaluatedKey).
    public let tableKey: [String]

    public init(
        name: String, attribute: String, sortAttribute: String, prefix: String, shards: Int,
        tableKey: [String] = ["pk"]
    ) {
        precondition(shards > 0)
        self.name = name
        self.attribute = attribute
        self.sortAttribute = sortAttribute
        self.prefix = prefix
        self.shards = shards
        self.tableKey = tableKey
    }

    /// The index `table` declares as `index` in a service's declaration (service.json's bytes, which
    /// every service embeds at build time as `PackageResources.service_json`): its key attributes, the
    /// table's key and the shard count are the declared ones, so the code restates none of them and
    /// the index, `make capacity` and the alarms cannot disagree. Only the value prefix is the code's.
    public init(declaration: [UInt8], table: String, index: String, prefix: String) throws(DeclarationError) {
        let document = try? JSONValue.parse(declaration)
        guard let declared = document?["tables"]?[table] else {
            throw DeclarationError(description: "service.json declares no table \(table)")
        }
        let indexes = declared["globalSecondaryIndexes"]?.arrayValue ?? []
        guard let gsi = indexes.first(where: { $0["name"]?.stringValue == index }),
            let attribute = gsi["partitionKey"]?["name"]?.stringValue,
            let sortAttribute = gsi["sortKey"]?["name"]?.stringValue
        else {
            throw DeclarationError(
                description: "table \(table) declares no global secondary index \(index) with a sort key")
        }
        guard gsi["partitionKey"]?["cardinality"]?.stringValue == "shards",
            case .number(let count)? = gsi["partitionKey"]?["shards"], let shards = Int(count), shards > 0
        else {
            throw DeclarationError(
                description: "\(index)'s partition key is not declared with cardinality shards and a shard count")
        }
        let tableKey = ["partitionKey", "sortKey"].compactMap { declared[$0]?["name"]?.stringValue }
        self.init(
            name: index, attribute: attribute, sortAttribute: sortAttribute, prefix: prefix, shards: shards,
            tableKey: tableKey)
    }

    public struct DeclarationError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The shard value an item with this id is written under (FNV-1a, so it never changes).
    public func shard(for id: String) -> AttributeValue {
        var hash: UInt32 = 2_166_136_261
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return .s("\(prefix)#\(Int(hash % UInt32(shards)))")
    }

    /// One page of at most `limit` items across every shard, ordered by shard and then sort key.
    /// `position` is the previous page's `next` (nil to start); `next` is nil once every shard is
    /// exhausted. Each item appears exactly once across the pages.
    public func page(db: DynamoDBClient, table: String, limit: Int, position: Item?) async throws
        -> (items: [Item], next: Item?)
    {
        // Per shard: not started (.null), started (.m(start key)); exhausted shards are absent.
        var pending: [Int: Item?] = [:]
        if let position {
            for (key, value) in position {
                guard key.hasPrefix("s"), let shard = Int(key.dropFirst()), (0..<shards).contains(shard) else {
                    continue
                }
                if case .m(let start) = value { pending[shard] = .some(start) } else { pending[shard] = .some(nil) }
            }
        } else {
            for shard in 0..<shards { pending[shard] = .some(nil) }
        }
        var items: [Item] = []
        while items.isEmpty, !pending.isEmpty {
            // Share the page among the shards still pending, lowest first.
            let active = pending.keys.sorted()
            let share = active.prefix(limit).enumerated().map { offset, shard in
                (shard, limit / min(limit, active.count) + (offset < limit % min(limit, active.count) ? 1 : 0))
            }
            let results = try await withThrowingTaskGroup(of: (Int, Page).self) { group in
                for (shard, count) in share {
                    let start = pending[shard] ?? nil
                    group.addTask {
                        let page = try await db.query(
                            table: table, index: name, keyCondition: .equals(attribute, .s("\(prefix)#\(shard)")),
                            limit: count, startKey: start)
                        return (shard, page)
                    }
                }
                var results: [(Int, Page)] = []
                for try await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }
            }
            for (shard, page) in results {
                items += page.items
                if let last = page.lastEvaluatedKey { pending[shard] = .some(last) } else { pending[shard] = nil }
            }
        }
        guard !pending.isEmpty else { return (items, nil) }
        var next: Item = [:]
        for (shard, start) in pending { next["s\(shard)"] = start.map { .m($0) } ?? .null }
        return (items, next)
    }
}
