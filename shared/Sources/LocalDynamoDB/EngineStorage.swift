import DynamoDBModel
import JSONCoding

/// Items and index entries in SQLite: the only code that reads or writes rows.
extension Engine {
    /// The item at a key. An expired item is still there until the sweeper deletes it, as in
    /// DynamoDB: "Items that have expired and not been deleted will still show up in reads,
    /// queries, and scans" (API_UpdateTimeToLive), and conditions see them.
    func read(_ table: TableSchema, _ key: (pk: [UInt8], sk: [UInt8])) throws -> Item? {
        var item: Item?
        try db.query(
            "SELECT item FROM ddb_items WHERE tbl = ? AND pk = ? AND sk = ?",
            [.text(table.name), .blob(key.pk), .blob(key.sk)]
        ) { row in
            item = Self.decodeItem(row.text(0) ?? "{}")
            return false
        }
        return item
    }

    func write(_ table: TableSchema, _ item: Item) throws {
        let size = itemSize(item)
        guard size <= TableSchema.maxItemBytes else {
            throw DynamoDBError.validation("Item size has exceeded the maximum allowed size")
        }
        let key = try table.storageKey(item, requireExact: false)
        var indexKeys: [(String, (pk: [UInt8], sk: [UInt8]))] = []
        for index in table.indexes {
            if let k = try table.indexKey(index, item) { indexKeys.append((index.name, k)) }
        }
        try removeIndexEntries(table, key)
        try db.run(
            "INSERT OR REPLACE INTO ddb_items (tbl, pk, sk, item, size, expires) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .text(table.name), .blob(key.pk), .blob(key.sk), .text(AttributeValue.wire(item).jsonString),
                .integer(Int64(size)),
                table.expiry(of: item).map { .integer($0) } ?? .null,
            ])
        for (name, k) in indexKeys {
            try db.run(
                "INSERT OR REPLACE INTO ddb_index_entries (tbl, idx, gpk, gsk, pk, sk) VALUES (?, ?, ?, ?, ?, ?)",
                [.text(table.name), .text(name), .blob(k.pk), .blob(k.sk), .blob(key.pk), .blob(key.sk)])
        }
    }

    func remove(_ table: TableSchema, _ key: (pk: [UInt8], sk: [UInt8])) throws {
        try removeIndexEntries(table, key)
        try db.run(
            "DELETE FROM ddb_items WHERE tbl = ? AND pk = ? AND sk = ?",
            [.text(table.name), .blob(key.pk), .blob(key.sk)])
    }

    func removeIndexEntries(_ table: TableSchema, _ key: (pk: [UInt8], sk: [UInt8])) throws {
        guard !table.indexes.isEmpty else { return }
        try db.run(
            "DELETE FROM ddb_index_entries WHERE tbl = ? AND pk = ? AND sk = ?",
            [.text(table.name), .blob(key.pk), .blob(key.sk)])
    }

    /// Deletes expired items (the TTL sweeper). Returns how many went.
    @discardableResult
    func sweepExpired() throws -> Int {
        try db.transaction {
            // Tables with a stream get a REMOVE record per expired item, marked as the service's.
            var expired: [(TableSchema, Item)] = []
            for table in tables.values where try enabledStream(table.name) != nil {
                try db.query(
                    "SELECT item FROM ddb_items WHERE tbl = ? AND expires IS NOT NULL AND expires <= ?",
                    [.text(table.name), .integer(nowSeconds)]
                ) { row in
                    expired.append((table, Self.decodeItem(row.text(0) ?? "{}")))
                    return true
                }
            }
            try db.run(
                """
                DELETE FROM ddb_index_entries WHERE EXISTS (SELECT 1 FROM ddb_items i WHERE i.tbl = ddb_index_entries.tbl
                  AND i.pk = ddb_index_entries.pk AND i.sk = ddb_index_entries.sk AND i.expires IS NOT NULL AND i.expires <= ?)
                """, [.integer(nowSeconds)])
            let removed = try db.run(
                "DELETE FROM ddb_items WHERE expires IS NOT NULL AND expires <= ?", [.integer(nowSeconds)])
            for (table, item) in expired {
                let key = try table.storageKey(item, requireExact: false)
                try recordChange(PlannedWrite(table: table, key: key, old: item, new: nil), byService: true)
            }
            return removed
        }
    }
}
