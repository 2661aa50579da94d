import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// The DynamoDB data model on SQLite. Not thread-safe: `LocalDynamoDB` serialises calls.
final class Engine {
    let db: SQLiteDatabase
    var tables: [String: TableSchema] = [:]
    /// ClientRequestToken → (request fingerprint, time), for idempotent TransactWriteItems.
    var transactionTokens: [String: (JSONValue, Int64)] = [:]
    var now: () -> Int64 = { WallClock.nowMilliseconds() }

    static let pageBytes = 1_048_576

    init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS ddb_tables (name TEXT PRIMARY KEY, definition TEXT NOT NULL, created INTEGER NOT NULL, ttl_attribute TEXT);
            CREATE TABLE IF NOT EXISTS ddb_items (tbl TEXT NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, item TEXT NOT NULL,
                size INTEGER NOT NULL, expires INTEGER, PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS ddb_items_expires ON ddb_items(expires) WHERE expires IS NOT NULL;
            CREATE TABLE IF NOT EXISTS ddb_index_entries (tbl TEXT NOT NULL, idx TEXT NOT NULL, gpk BLOB NOT NULL, gsk BLOB NOT NULL,
                pk BLOB NOT NULL, sk BLOB NOT NULL, PRIMARY KEY (tbl, idx, gpk, gsk, pk, sk)) WITHOUT ROWID;
            """)
        try db.query("SELECT name, definition, created, ttl_attribute FROM ddb_tables") { row in
            let definition = try JSONValue.parse(row.text(1) ?? "{}")
            let schema = try TableSchema(definition: definition, created: row.integer(2), ttlAttribute: row.text(3))
            tables[schema.name] = schema
            return true
        }
    }

    var nowSeconds: Int64 { now() / 1000 }

    // MARK: Storage primitives

    func table(_ request: JSONValue, _ field: String = "TableName") throws(DynamoDBError) -> TableSchema {
        guard let name = request[field]?.stringValue else {
            throw .validation(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        }
        guard let schema = tables[name] else { throw .resourceNotFound() }
        return schema
    }

    static func decodeItem(_ text: String) -> Item {
        (try? AttributeValue.item(wire: try JSONValue.parse(text))) ?? [:]
    }

    /// The live item at a key (an expired item is treated as gone).
    func read(_ table: TableSchema, _ key: (pk: [UInt8], sk: [UInt8])) throws -> Item? {
        var item: Item?
        try db.query(
            "SELECT item FROM ddb_items WHERE tbl = ? AND pk = ? AND sk = ? AND (expires IS NULL OR expires > ?)",
            [.text(table.name), .blob(key.pk), .blob(key.sk), .integer(nowSeconds)]
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
            try db.run(
                """
                DELETE FROM ddb_index_entries WHERE EXISTS (SELECT 1 FROM ddb_items i WHERE i.tbl = ddb_index_entries.tbl
                  AND i.pk = ddb_index_entries.pk AND i.sk = ddb_index_entries.sk AND i.expires IS NOT NULL AND i.expires <= ?)
                """, [.integer(nowSeconds)])
            return try db.run(
                "DELETE FROM ddb_items WHERE expires IS NOT NULL AND expires <= ?", [.integer(nowSeconds)])
        }
    }

    // MARK: Request helpers

    func substitutions(_ request: JSONValue) throws(DynamoDBError) -> Substitutions {
        var names: [String: String] = [:]
        for (k, v) in request["ExpressionAttributeNames"]?.objectValue ?? [:] { names[k] = v.stringValue }
        var values: [String: AttributeValue] = [:]
        do {
            for (k, v) in request["ExpressionAttributeValues"]?.objectValue ?? [:] {
                values[k] = try AttributeValue(wire: v)
            }
        } catch {
            throw .validation(
                "ExpressionAttributeValues contains invalid value: \(error.description) for key \(values.count)")
        }
        return Substitutions(names: names, values: values)
    }

    func item(_ value: JSONValue?, _ field: String) throws(DynamoDBError) -> Item {
        guard value != nil else {
            throw .validation(
                "1 validation error detected: Value null at '\(field.prefix(1).lowercased() + field.dropFirst())' failed to satisfy constraint: Member must not be null"
            )
        }
        do { return try AttributeValue.item(wire: value) } catch {
            throw .validation("One or more parameter values were invalid: \(error.description)")
        }
    }

    func condition(_ request: JSONValue, _ subs: Substitutions, field: String = "ConditionExpression")
        throws(DynamoDBError) -> Condition?
    {
        guard let text = request[field]?.stringValue else { return nil }
        return try ExpressionParser.parseCondition(text, kind: field, subs)
    }

    func projection(_ request: JSONValue, _ subs: Substitutions) throws(DynamoDBError) -> [DocumentPath]? {
        guard let text = request["ProjectionExpression"]?.stringValue else { return nil }
        return try ExpressionParser.parseProjection(text, subs)
    }

    func returnValues(_ request: JSONValue, allowed: Set<String>) throws(DynamoDBError) -> String {
        let value = request["ReturnValues"]?.stringValue ?? "NONE"
        guard allowed.contains(value) else {
            throw .validation(
                "ReturnValues can only be \(allowed.sorted().joined(separator: " or ")) for this operation")
        }
        return value
    }

    func failedCondition(_ request: JSONValue, old: Item?) -> DynamoDBError {
        .conditionalCheckFailed(
            item: request["ReturnValuesOnConditionCheckFailure"]?.stringValue == "ALL_OLD" ? old : nil)
    }

    // MARK: Item operations

    /// The effect of one write, computed against the current state; `commit` applies it.
    struct PlannedWrite {
        var table: TableSchema
        var key: (pk: [UInt8], sk: [UInt8])
        var old: Item?
        var new: Item?  // nil deletes
    }

    func planPut(_ request: JSONValue) throws -> PlannedWrite {
        let table = try table(request)
        let item = try item(request["Item"], "Item")
        let subs = try substitutions(request)
        let condition = try condition(request, subs)
        try subs.checkAllUsed()
        let key = try table.storageKey(item, requireExact: false)
        for index in table.indexes { _ = try table.indexKey(index, item) }
        guard itemSize(item) <= TableSchema.maxItemBytes else {
            throw DynamoDBError.validation("Item size has exceeded the maximum allowed size")
        }
        let old = try read(table, key)
        if let condition, try !condition.evaluate(old ?? [:]) { throw failedCondition(request, old: old) }
        return PlannedWrite(table: table, key: key, old: old, new: item)
    }

    func planDelete(_ request: JSONValue) throws -> PlannedWrite {
        let table = try table(request)
        let key = try table.storageKey(try item(request["Key"], "Key"), requireExact: true)
        let subs = try substitutions(request)
        let condition = try condition(request, subs)
        try subs.checkAllUsed()
        let old = try read(table, key)
        if let condition, try !condition.evaluate(old ?? [:]) { throw failedCondition(request, old: old) }
        return PlannedWrite(table: table, key: key, old: old, new: nil)
    }

    func planUpdate(_ request: JSONValue) throws -> PlannedWrite {
        let table = try table(request)
        let keyItem = try item(request["Key"], "Key")
        let key = try table.storageKey(keyItem, requireExact: true)
        let subs = try substitutions(request)
        let update = try request["UpdateExpression"]?.stringValue.map { (text) throws(DynamoDBError) in
            try ExpressionParser.parseUpdate(text, subs)
        }
        let condition = try condition(request, subs)
        try subs.checkAllUsed()
        let old = try read(table, key)
        if let condition, try !condition.evaluate(old ?? [:]) { throw failedCondition(request, old: old) }
        var new = old ?? keyItem
        if let update { new = try update.apply(to: new, keyAttributes: table.keyAttributes) }
        for index in table.indexes { _ = try table.indexKey(index, new) }
        guard itemSize(new) <= TableSchema.maxItemBytes else {
            throw DynamoDBError.validation("Item size to update has exceeded the maximum allowed size")
        }
        return PlannedWrite(table: table, key: key, old: old, new: new)
    }

    func commit(_ write: PlannedWrite) throws {
        if let new = write.new { try self.write(write.table, new) } else { try remove(write.table, write.key) }
    }

    func putItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD"])
        let planned = try db.transaction {
            let planned = try planPut(request)
            try commit(planned)
            return planned
        }
        return mode == "ALL_OLD" && planned.old != nil ? ["Attributes": AttributeValue.wire(planned.old!)] : [:]
    }

    func deleteItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD"])
        let planned = try db.transaction {
            let planned = try planDelete(request)
            try commit(planned)
            return planned
        }
        return mode == "ALL_OLD" && planned.old != nil ? ["Attributes": AttributeValue.wire(planned.old!)] : [:]
    }

    func updateItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
        let planned = try db.transaction {
            let planned = try planUpdate(request)
            try commit(planned)
            return planned
        }
        let old = planned.old ?? [:]
        let new = planned.new ?? [:]
        let changed = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }
        let attributes: Item? =
            switch mode {
            case "ALL_OLD": planned.old
            case "ALL_NEW": new
            case "UPDATED_OLD": old.filter { changed.contains($0.key) }
            case "UPDATED_NEW": new.filter { changed.contains($0.key) }
            default: nil
            }
        guard let attributes, !(mode.hasPrefix("ALL_OLD") && planned.old == nil) else { return [:] }
        return ["Attributes": AttributeValue.wire(attributes)]
    }

    func getItem(_ request: JSONValue) throws -> JSONValue {
        let table = try table(request)
        let key = try table.storageKey(try item(request["Key"], "Key"), requireExact: true)
        let subs = try substitutions(request)
        let paths = try projection(request, subs)
        try subs.checkAllUsed()
        guard let item = try read(table, key) else { return [:] }
        return ["Item": AttributeValue.wire(project(item, paths))]
    }

    // MARK: Query and Scan

    struct KeyRange {
        var partition: [UInt8]
        var lower: (bytes: [UInt8], inclusive: Bool)?
        var upper: (bytes: [UInt8], inclusive: Bool)?
        var prefix: [UInt8]?
    }

    /// Turns a KeyConditionExpression into a partition value and a sort-key range.
    func keyRange(_ condition: Condition, key: KeySchema) throws(DynamoDBError) -> KeyRange {
        func invalid(_ detail: String) -> DynamoDBError {
            .validation("Query condition missed key schema element\(detail)")
        }
        var parts: [Condition] = []
        func flatten(_ c: Condition) throws(DynamoDBError) {
            switch c {
            case .and(let a, let b):
                try flatten(a)
                try flatten(b)
            case .or: throw .validation("Invalid operator used in KeyConditionExpression: OR")
            case .not: throw .validation("Invalid operator used in KeyConditionExpression: NOT")
            default: parts.append(c)
            }
        }
        try flatten(condition)
        var range: KeyRange?
        var sortPart: Condition?
        for part in parts {
            if case .compare(.path(let p), .eq, .value(let v)) = part, p.elements == [.key(key.partition)] {
                guard range == nil else {
                    throw .validation("KeyConditionExpressions must only contain one condition per key")
                }
                range = KeyRange(partition: try TableSchema.encode(v, name: key.partition))
            } else {
                guard sortPart == nil else {
                    throw .validation("KeyConditionExpressions must only contain one condition per key")
                }
                sortPart = part
            }
        }
        guard var range else { throw invalid(": \(key.partition)") }
        guard let sortPart else { return range }
        guard let sort = key.sort else { throw .validation("Query key condition not supported") }
        func sortValue(_ p: DocumentPath, _ v: AttributeValue) throws(DynamoDBError) -> [UInt8] {
            guard p.elements == [.key(sort)] else { throw invalid(": \(sort)") }
            return try TableSchema.encode(v, name: sort)
        }
        switch sortPart {
        case .compare(.path(let p), let op, .value(let v)):
            let bytes = try sortValue(p, v)
            switch op {
            case .eq:
                range.lower = (bytes, true)
                range.upper = (bytes, true)
            case .lt: range.upper = (bytes, false)
            case .le: range.upper = (bytes, true)
            case .gt: range.lower = (bytes, false)
            case .ge: range.lower = (bytes, true)
            case .ne: throw .validation("Unsupported operator on KeyConditionExpression: operator: <>")
            }
        case .between(.path(let p), .value(let lo), .value(let hi)):
            let low = try sortValue(p, lo)
            let high = try sortValue(p, hi)
            if let order = compareScalars(lo, hi), order > 0 {
                throw .validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(lo.typeName):\(lo)}, upper bound operand: AttributeValue: {\(hi.typeName):\(hi)}"
                )
            }
            range.lower = (low, true)
            range.upper = (high, true)
        case .beginsWith(.path(let p), .value(let v)):
            guard case .s = v else {
                throw .validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: \(v.typeName)"
                )
            }
            let bytes = try sortValue(p, v)
            range.lower = (bytes, true)
            range.prefix = bytes
        default:
            throw .validation("Invalid KeyConditionExpression: unsupported condition on the sort key")
        }
        return range
    }

    struct Row {
        var item: Item
        var size: Int
    }

    /// Runs a Query or Scan: pages of at most `Limit` evaluated items and 1 MB, filter after.
    func read(_ request: JSONValue, query: Bool) throws -> JSONValue {
        let table = try table(request)
        let subs = try substitutions(request)
        var index: IndexSchema?
        if let indexName = request["IndexName"]?.stringValue {
            guard let found = table.indexes.first(where: { $0.name == indexName }) else {
                throw DynamoDBError.validation("The table does not have the specified index: \(indexName)")
            }
            index = found
        }
        let keySchema = index?.key ?? table.key
        var range: KeyRange?
        if query {
            guard let text = request["KeyConditionExpression"]?.stringValue else {
                throw DynamoDBError.validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
            }
            range = try keyRange(
                try ExpressionParser.parseCondition(text, kind: "KeyConditionExpression", subs), key: keySchema)
        }
        let filter = try condition(request, subs, field: "FilterExpression")
        let paths = try projection(request, subs)
        try subs.checkAllUsed()
        let select = request["Select"]?.stringValue ?? (paths == nil ? "ALL_ATTRIBUTES" : "SPECIFIC_ATTRIBUTES")
        let limit = request["Limit"].flatMap { $0 == .null ? nil : Int($0.jsonString) }
        if let limit, limit < 1 {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )
        }
        let forward = request["ScanIndexForward"]?.boolValue ?? true
        let segment = request["Segment"].flatMap { Int($0.jsonString) }
        let totalSegments = request["TotalSegments"].flatMap { Int($0.jsonString) }

        // Where to resume: the start key's storage keys.
        var start: [[UInt8]]?
        if let startValue = request["ExclusiveStartKey"], startValue != .null {
            let startItem = try item(startValue, "ExclusiveStartKey")
            let tableKey = try table.storageKey(startItem, requireExact: false)
            if let index {
                guard let indexKey = try table.indexKey(index, startItem) else {
                    throw DynamoDBError.validation("The provided starting key is invalid")
                }
                start = [indexKey.pk, indexKey.sk, tableKey.pk, tableKey.sk]
            } else {
                start = [tableKey.pk, tableKey.sk]
            }
        }

        var sql: String
        var bindings: [SQLiteDatabase.Value] = [.text(table.name)]
        let order = forward ? "ASC" : "DESC"
        if let index {
            sql =
                "SELECT i.item, i.size, e.gpk, e.gsk, e.pk, e.sk FROM ddb_index_entries e JOIN ddb_items i ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk WHERE e.tbl = ? AND e.idx = ?"
            bindings.append(.text(index.name))
        } else {
            sql = "SELECT item, size, pk, sk, pk, sk FROM ddb_items WHERE tbl = ?"
        }
        let p = index == nil ? "" : "e."
        let (pkColumn, skColumn) = index == nil ? ("pk", "sk") : ("e.gpk", "e.gsk")
        let expiresColumn = index == nil ? "expires" : "i.expires"
        sql += " AND (\(expiresColumn) IS NULL OR \(expiresColumn) > ?)"
        bindings.append(.integer(nowSeconds))
        if let range {
            sql += " AND \(pkColumn) = ?"
            bindings.append(.blob(range.partition))
            if let lower = range.lower {
                sql += " AND \(skColumn) \(lower.inclusive ? ">=" : ">") ?"
                bindings.append(.blob(lower.bytes))
            }
            if let upper = range.upper {
                sql += " AND \(skColumn) \(upper.inclusive ? "<=" : "<") ?"
                bindings.append(.blob(upper.bytes))
            }
        }
        if let start {
            let columns = index == nil ? "(\(p)pk, \(p)sk)" : "(e.gpk, e.gsk, e.pk, e.sk)"
            let placeholders = start.map { _ in "?" }.joined(separator: ", ")
            if query {
                // Within one partition only the remaining columns order the rows.
                let tail = index == nil ? "(sk)" : "(e.gsk, e.pk, e.sk)"
                let tailValues = Array(start.dropFirst())
                sql += " AND \(tail) \(forward ? ">" : "<") (\(tailValues.map { _ in "?" }.joined(separator: ", ")))"
                bindings += tailValues.map { .blob($0) }
            } else {
                sql += " AND \(columns) > (\(placeholders))"
                bindings += start.map { .blob($0) }
            }
        }
        sql +=
            index == nil
            ? " ORDER BY \(query ? "sk \(order)" : "pk, sk")"
            : " ORDER BY \(query ? "e.gsk \(order), e.pk \(order), e.sk \(order)" : "e.gpk, e.gsk, e.pk, e.sk")"

        var items: [JSONValue] = []
        var count = 0
        var scanned = 0
        var bytes = 0
        var lastKey: Item?
        var stoppedEarly = false
        try db.query(sql, bindings) { row in
            let storedPK = row.blob(4)
            if let segment, let totalSegments, totalSegments > 0 {
                var hash: UInt32 = 2_166_136_261
                for b in storedPK { hash = (hash ^ UInt32(b)) &* 16_777_619 }
                if Int(hash % UInt32(totalSegments)) != segment { return true }
            }
            let sortBytes = row.blob(3)
            if let prefix = range?.prefix, !sortBytes.starts(with: prefix) {
                return !forward  // sorted: past the prefix going forward means done
            }
            var item = Self.decodeItem(row.text(0) ?? "{}")
            if let index { item = table.projectForIndex(index, item) }
            scanned += 1
            bytes += Int(row.integer(1))
            if try filter?.evaluate(item) ?? true {
                count += 1
                if select != "COUNT" { items.append(AttributeValue.wire(project(item, paths))) }
            }
            if scanned == limit || bytes >= Self.pageBytes {
                var key: Item = [:]
                for name in table.key.names + (index?.key.names ?? []) { key[name] = item[name] }
                lastKey = key
                stoppedEarly = true
                return false
            }
            return true
        }
        var response: JSONObject = [:]
        if select != "COUNT" { response["Items"] = .array(items) }
        response["Count"] = .number(String(count))
        response["ScannedCount"] = .number(String(scanned))
        if stoppedEarly, let lastKey { response["LastEvaluatedKey"] = AttributeValue.wire(lastKey) }
        return .object(response)
    }

    // MARK: Batches and transactions

    func batchWriteItem(_ request: JSONValue) throws -> JSONValue {
        guard let requestItems = request["RequestItems"]?.objectValue, !requestItems.isEmpty else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null"
            )
        }
        let total = requestItems.reduce(0) { $0 + ($1.value.arrayValue?.count ?? 0) }
        guard total <= 25 else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
            )
        }
        var writes: [PlannedWrite] = []
        var seen: Set<[UInt8]> = []
        for (tableName, operations) in requestItems {
            guard let table = tables[tableName] else { throw DynamoDBError.resourceNotFound() }
            for operation in operations.arrayValue ?? [] {
                let planned: PlannedWrite
                if let put = operation["PutRequest"] {
                    let item = try item(put["Item"], "Item")
                    planned = PlannedWrite(
                        table: table, key: try table.storageKey(item, requireExact: false), old: nil, new: item)
                    for index in table.indexes { _ = try table.indexKey(index, item) }
                    guard itemSize(item) <= TableSchema.maxItemBytes else {
                        throw DynamoDBError.validation("Item size has exceeded the maximum allowed size")
                    }
                } else if let delete = operation["DeleteRequest"] {
                    planned = PlannedWrite(
                        table: table, key: try table.storageKey(try item(delete["Key"], "Key"), requireExact: true),
                        old: nil, new: nil)
                } else {
                    throw DynamoDBError.validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    )
                }
                guard seen.insert(Array(tableName.utf8) + [0] + planned.key.pk + [0] + planned.key.sk).inserted else {
                    throw DynamoDBError.validation("Provided list of item keys contains duplicates")
                }
                writes.append(planned)
            }
        }
        try db.transaction { for write in writes { try commit(write) } }
        return ["UnprocessedItems": [:]]
    }

    func batchGetItem(_ request: JSONValue) throws -> JSONValue {
        guard let requestItems = request["RequestItems"]?.objectValue, !requestItems.isEmpty else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null"
            )
        }
        let total = requestItems.reduce(0) { $0 + ($1.value["Keys"]?.arrayValue?.count ?? 0) }
        guard total <= 100 else { throw DynamoDBError.validation("Too many items requested for the BatchGetItem call") }
        var responses = JSONObject()
        for (tableName, spec) in requestItems {
            guard let table = tables[tableName] else { throw DynamoDBError.resourceNotFound() }
            let subs = try substitutions(spec)
            let paths = try projection(spec, subs)
            try subs.checkAllUsed()
            var seen: Set<[UInt8]> = []
            var found: [JSONValue] = []
            for keyValue in spec["Keys"]?.arrayValue ?? [] {
                let key = try table.storageKey(try item(keyValue, "Keys"), requireExact: true)
                guard seen.insert(key.pk + [0] + key.sk).inserted else {
                    throw DynamoDBError.validation("Provided list of item keys contains duplicates")
                }
                if let item = try read(table, key) { found.append(AttributeValue.wire(project(item, paths))) }
            }
            responses[tableName] = .array(found)
        }
        return ["Responses": .object(responses), "UnprocessedKeys": [:]]
    }

    func transactWriteItems(_ request: JSONValue) throws -> JSONValue {
        guard let actions = request["TransactItems"]?.arrayValue, !actions.isEmpty else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null"
            )
        }
        guard actions.count <= 100 else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
            )
        }
        if let token = request["ClientRequestToken"]?.stringValue {
            transactionTokens = transactionTokens.filter { now() - $0.value.1 < 600_000 }
            if let (fingerprint, _) = transactionTokens[token] {
                if fingerprint == request["TransactItems"] { return [:] }
                throw DynamoDBError.idempotentMismatch()
            }
        }
        try db.transaction {
            var writes: [PlannedWrite] = []
            var reasons: [JSONValue] = []
            var failed = false
            var seen: Set<[UInt8]> = []
            for action in actions {
                guard let (kind, body) = action.objectValue?.members.first.map({ ($0.key, $0.value) }) else {
                    throw DynamoDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete")
                }
                do {
                    let planned: PlannedWrite
                    switch kind {
                    case "Put": planned = try planPut(body)
                    case "Update": planned = try planUpdate(body)
                    case "Delete": planned = try planDelete(body)
                    case "ConditionCheck":
                        guard body["ConditionExpression"] != nil else {
                            throw DynamoDBError.validation(
                                "The ConditionExpression parameter is required for ConditionCheck")
                        }
                        var check = try planDelete(body)
                        check.new = check.old  // a check writes nothing
                        planned = check
                    default: throw DynamoDBError.validation("Invalid transaction action: \(kind)")
                    }
                    guard
                        seen.insert(Array(planned.table.name.utf8) + [0] + planned.key.pk + [0] + planned.key.sk)
                            .inserted
                    else {
                        throw DynamoDBError.validation(
                            "Transaction request cannot include multiple operations on one item")
                    }
                    if kind != "ConditionCheck" { writes.append(planned) }
                    reasons.append(["Code": "None"])
                } catch let error as DynamoDBError where error.type.hasSuffix("ConditionalCheckFailedException") {
                    failed = true
                    var reason: JSONObject = [
                        "Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                    ]
                    if let item = error.extra["Item"] { reason["Item"] = item }
                    reasons.append(.object(reason))
                }
            }
            if failed {
                let codes = reasons.compactMap { $0["Code"]?.stringValue }.joined(separator: ", ")
                var error = DynamoDBError(
                    status: 400, type: DynamoDBError.dynamo + "TransactionCanceledException",
                    message: "Transaction cancelled, please refer cancellation reasons for specific reasons [\(codes)]")
                error.extra["CancellationReasons"] = .array(reasons)
                throw error
            }
            for write in writes { try commit(write) }
        }
        if let token = request["ClientRequestToken"]?.stringValue {
            transactionTokens[token] = (request["TransactItems"]!, now())
        }
        return [:]
    }

    func transactGetItems(_ request: JSONValue) throws -> JSONValue {
        guard let actions = request["TransactItems"]?.arrayValue, !actions.isEmpty, actions.count <= 100 else {
            throw DynamoDBError.validation("TransactItems must contain between 1 and 100 items")
        }
        var responses: [JSONValue] = []
        for action in actions {
            guard let get = action["Get"] else { throw DynamoDBError.validation("TransactGetItems only supports Get") }
            let result = try getItem(get)
            responses.append(result["Item"].map { ["Item": $0] } ?? [:])
        }
        return ["Responses": .array(responses)]
    }

    // MARK: Tables

    func createTable(_ request: JSONValue) throws -> JSONValue {
        let schema = try TableSchema(definition: request, created: nowSeconds, ttlAttribute: nil)
        guard tables[schema.name] == nil else {
            throw DynamoDBError.resourceInUse("Table already exists: \(schema.name)")
        }
        try db.run(
            "INSERT INTO ddb_tables (name, definition, created) VALUES (?, ?, ?)",
            [.text(schema.name), .text(request.jsonString), .integer(schema.created)])
        tables[schema.name] = schema
        var description = schema.description(itemCount: 0, sizeBytes: 0)
        if case .object(var o) = description {
            o["TableStatus"] = "ACTIVE"
            description = .object(o)
        }
        return ["TableDescription": description]
    }

    func statistics(_ table: TableSchema) throws -> (Int, Int) {
        var result = (0, 0)
        try db.query("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items WHERE tbl = ?", [.text(table.name)]) {
            row in
            result = (Int(row.integer(0)), Int(row.integer(1)))
            return false
        }
        return result
    }

    func describeTable(_ request: JSONValue) throws -> JSONValue {
        guard let name = request["TableName"]?.stringValue else {
            throw DynamoDBError.validation("TableName is required")
        }
        guard let table = tables[name] else {
            throw DynamoDBError.resourceNotFound("Requested resource not found: Table: \(name) not found")
        }
        let (count, size) = try statistics(table)
        return ["Table": table.description(itemCount: count, sizeBytes: size)]
    }

    func deleteTable(_ request: JSONValue) throws -> JSONValue {
        guard let name = request["TableName"]?.stringValue else {
            throw DynamoDBError.validation("TableName is required")
        }
        guard let table = tables[name] else {
            throw DynamoDBError.resourceNotFound("Requested resource not found: Table: \(name) not found")
        }
        if table.definition["DeletionProtectionEnabled"]?.boolValue == true {
            throw DynamoDBError.validation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
            )
        }
        let (count, size) = try statistics(table)
        try db.transaction {
            try db.run("DELETE FROM ddb_index_entries WHERE tbl = ?", [.text(name)])
            try db.run("DELETE FROM ddb_items WHERE tbl = ?", [.text(name)])
            try db.run("DELETE FROM ddb_tables WHERE name = ?", [.text(name)])
        }
        tables[name] = nil
        var description = table.description(itemCount: count, sizeBytes: size)
        if case .object(var o) = description {
            o["TableStatus"] = "DELETING"
            description = .object(o)
        }
        return ["TableDescription": description]
    }

    func listTables(_ request: JSONValue) throws -> JSONValue {
        let start = request["ExclusiveStartTableName"]?.stringValue
        let limit = request["Limit"].flatMap { Int($0.jsonString) } ?? 100
        let names = tables.keys.sorted().filter { start == nil || $0 > start! }
        var response: JSONObject = ["TableNames": .array(names.prefix(limit).map(JSONValue.string))]
        if names.count > limit { response["LastEvaluatedTableName"] = .string(names[limit - 1]) }
        return .object(response)
    }

    func updateTimeToLive(_ request: JSONValue) throws -> JSONValue {
        var table = try table(request)
        guard let spec = request["TimeToLiveSpecification"], let attribute = spec["AttributeName"]?.stringValue,
            let enabled = spec["Enabled"]?.boolValue
        else { throw DynamoDBError.validation("TimeToLiveSpecification needs AttributeName and Enabled") }
        if enabled, table.ttlAttribute != nil { throw DynamoDBError.validation("TimeToLive is already enabled") }
        if !enabled, table.ttlAttribute == nil { throw DynamoDBError.validation("TimeToLive is already disabled") }
        table.ttlAttribute = enabled ? attribute : nil
        try db.transaction {
            try db.run(
                "UPDATE ddb_tables SET ttl_attribute = ? WHERE name = ?",
                [table.ttlAttribute.map { .text($0) } ?? .null, .text(table.name)])
            // Recompute expiry for existing items.
            var updates: [([UInt8], [UInt8], Int64?)] = []
            try db.query("SELECT pk, sk, item FROM ddb_items WHERE tbl = ?", [.text(table.name)]) { row in
                updates.append((row.blob(0), row.blob(1), table.expiry(of: Self.decodeItem(row.text(2) ?? "{}"))))
                return true
            }
            for (pk, sk, expires) in updates {
                try db.run(
                    "UPDATE ddb_items SET expires = ? WHERE tbl = ? AND pk = ? AND sk = ?",
                    [expires.map { .integer($0) } ?? .null, .text(table.name), .blob(pk), .blob(sk)])
            }
        }
        tables[table.name] = table
        return ["TimeToLiveSpecification": spec]
    }

    func describeTimeToLive(_ request: JSONValue) throws -> JSONValue {
        let table = try table(request)
        if let attribute = table.ttlAttribute {
            return ["TimeToLiveDescription": ["TimeToLiveStatus": "ENABLED", "AttributeName": .string(attribute)]]
        }
        return ["TimeToLiveDescription": ["TimeToLiveStatus": "DISABLED"]]
    }

    /// Dispatches one operation by its `X-Amz-Target` name.
    func handle(operation: String, request: JSONValue) throws -> JSONValue {
        switch operation {
        case "PutItem": return try putItem(request)
        case "GetItem": return try getItem(request)
        case "UpdateItem": return try updateItem(request)
        case "DeleteItem": return try deleteItem(request)
        case "Query": return try read(request, query: true)
        case "Scan": return try read(request, query: false)
        case "BatchWriteItem": return try batchWriteItem(request)
        case "BatchGetItem": return try batchGetItem(request)
        case "TransactWriteItems": return try transactWriteItems(request)
        case "TransactGetItems": return try transactGetItems(request)
        case "CreateTable": return try createTable(request)
        case "DescribeTable": return try describeTable(request)
        case "DeleteTable": return try deleteTable(request)
        case "ListTables": return try listTables(request)
        case "UpdateTimeToLive": return try updateTimeToLive(request)
        case "DescribeTimeToLive": return try describeTimeToLive(request)
        default: throw DynamoDBError.unknownOperation()
        }
    }
}
