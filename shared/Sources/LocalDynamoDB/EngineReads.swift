import DynamoDBModel
import JSONCoding

/// GetItem, Query and Scan.
extension Engine {
    func getItem(_ request: JSONValue) throws -> JSONValue {
        let table = try table(request)
        let key = try table.storageKey(try item(request["Key"], "Key"), requireExact: true)
        let subs = try substitutions(request)
        let paths = try projection(request, subs)
        try subs.checkAllUsed()
        let found = try read(table, key)
        var consumed = CapacityUsage(table: table.name)
        consumed.read(
            bytes: found.map(itemSize) ?? 0, consistent: request["ConsistentRead"]?.boolValue == true, index: nil)
        let response: JSONValue = found.map { ["Item": AttributeValue.wire(project($0, paths))] } ?? [:]
        return try consumed.attach(to: response, request)
    }

    // MARK: Query and Scan

    struct KeyRange {
        var partition: [UInt8]
        var lower: (bytes: [UInt8], inclusive: Bool)?
        var upper: (bytes: [UInt8], inclusive: Bool)?
        var prefix: [UInt8]?
        /// Checked on each candidate row (the range part of a multi-attribute sort key).
        var residual: Condition?
    }

    /// Turns a key condition into a partition value and a sort-key range. Key conditions are
    /// conjunctions: equality on every partition key attribute, then, on the sort key, one of
    /// = < <= > >= BETWEEN begins_with (API Reference, Query: KeyConditionExpression); with a
    /// multi-attribute sort key, equality on a leading run of its attributes and at most one
    /// range condition on the next.
    func keyRange(_ condition: Condition, key: KeySchema) throws(DynamoDBError) -> KeyRange {
        var parts: [Condition] = []
        func flatten(_ c: Condition) throws(DynamoDBError) {
            switch c {
            case .and(let a, let b):
                try flatten(a)
                try flatten(b)
            case .or: throw .validation("Invalid operator used in KeyConditionExpression: OR")
            case .not: throw .validation("Invalid operator used in KeyConditionExpression: NOT")
            // `:v = sk` is as valid as `sk = :v`: put the key on the left, flipping the comparator.
            case .compare(.value(let v), let op, .path(let p)):
                let flipped: [Comparator: Comparator] = [.lt: .gt, .le: .ge, .gt: .lt, .ge: .le, .eq: .eq, .ne: .ne]
                parts.append(.compare(.path(p), flipped[op]!, .value(v)))
            default: parts.append(c)
            }
        }
        try flatten(condition)
        var byAttribute: [String: Condition] = [:]
        for part in parts {
            guard let name = Self.keyConditionAttribute(part) else {
                throw .validation("Invalid KeyConditionExpression: unsupported condition on a key attribute")
            }
            guard key.names.contains(name) else {
                throw .validation("Query condition missed key schema element: \(key.sort ?? key.partition)")
            }
            guard byAttribute.updateValue(part, forKey: name) == nil else {
                throw .validation("KeyConditionExpressions must only contain one condition per key")
            }
        }
        var partitionParts: [[UInt8]] = []
        for name in key.partitions {
            guard case .compare(_, .eq, .value(let v))? = byAttribute[name] else {
                throw .validation("Query condition missed key schema element: \(name)")
            }
            partitionParts.append(try TableSchema.encode(v, name: name))
        }
        var range = KeyRange(partition: TableSchema.compose(partitionParts))
        let sortConditions = key.sorts.map { byAttribute[$0] }
        guard sortConditions.contains(where: { $0 != nil }) else { return range }
        if key.sorts.count == 1 {
            try applySortCondition(sortConditions[0]!, sort: key.sorts[0], to: &range)
            return range
        }
        // Multi-attribute sort key: equalities on a leading run, then at most one more condition
        // (Developer Guide, "Multi-attribute key schema"; the message is observed).
        for (position, name) in key.sorts.enumerated() where sortConditions[position] != nil {
            let unequal = key.sorts[..<position].first { earlier in
                guard case .compare(_, .eq, _)? = byAttribute[earlier] else { return true }
                return false
            }
            if let unequal {
                throw .validation(
                    "RANGE key attributes \(unequal) must have equality conditions specified in the query because a condition is present on key attribute \(name)"
                )
            }
        }
        var prefix: [UInt8] = []
        for (name, part) in zip(key.sorts, sortConditions) {
            guard let part else { break }
            if case .compare(_, .eq, .value(let v)) = part {
                prefix += TableSchema.component(try TableSchema.encode(v, name: name))
            } else {
                range.residual = part
                break
            }
        }
        if !prefix.isEmpty {
            range.prefix = prefix
            range.lower = (prefix, true)
        }
        return range
    }

    static func keyConditionAttribute(_ part: Condition) -> String? {
        switch part {
        case .compare(.path(let p), _, .value), .between(.path(let p), .value, .value),
            .beginsWith(.path(let p), .value):
            return p.elements.count == 1 ? p.topLevel : nil
        default: return nil
        }
    }

    func applySortCondition(_ part: Condition, sort: String, to range: inout KeyRange) throws(DynamoDBError) {
        switch part {
        case .compare(_, let op, .value(let v)):
            let bytes = try TableSchema.encode(v, name: sort)
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
        case .between(_, .value(let lo), .value(let hi)):
            if let order = compareScalars(lo, hi), order > 0 {
                throw .validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(lo.typeName):\(lo)}, upper bound operand: AttributeValue: {\(hi.typeName):\(hi)}"
                )
            }
            range.lower = (try TableSchema.encode(lo, name: sort), true)
            range.upper = (try TableSchema.encode(hi, name: sort), true)
        case .beginsWith(_, .value(let v)):
            // begins_with takes a string or binary sort key (API Reference, Query: KeyConditionExpression).
            guard v.typeName == "S" || v.typeName == "B" else {
                throw .incorrectOperandType(in: "KeyConditionExpression", "begins_with", v.typeName)
            }
            let bytes = try TableSchema.encode(v, name: sort)
            range.lower = (bytes, true)
            range.prefix = bytes
        default:
            throw .validation("Invalid KeyConditionExpression: unsupported condition on the sort key")
        }
    }

    /// The index a Query or Scan names, readable now, with the consistency it allows.
    func readableIndex(_ request: JSONValue, _ table: TableSchema) throws(DynamoDBError) -> IndexSchema? {
        guard let indexName = request["IndexName"]?.stringValue else { return nil }
        guard let index = table.indexes.first(where: { $0.name == indexName }) else {
            throw .validation("The table does not have the specified index: \(indexName)")
        }
        if !index.local, request["ConsistentRead"]?.boolValue == true {
            throw .validation("Consistent reads are not supported on global secondary indexes")
        }
        if indexStatus(table: table.name, index: indexName) == "CREATING" {
            throw .validation("Cannot read from backfilling global secondary index: \(indexName)")
        }
        return index
    }

    /// Runs a Query or Scan: pages of at most `Limit` evaluated items and 1 MB, filter after.
    func read(_ request: JSONValue, query: Bool) throws -> JSONValue {
        let table = try table(request)
        let subs = try substitutions(request)
        let index = try readableIndex(request, table)
        let keySchema = index?.key ?? table.key
        var range: KeyRange?
        if query {
            var keyCondition = try Legacy.keyConditions(request)
            if let text = request["KeyConditionExpression"]?.stringValue {
                keyCondition = try ExpressionParser.parseCondition(text, kind: "KeyConditionExpression", subs)
            }
            guard let keyCondition else {
                throw DynamoDBError.validation(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
            }
            range = try keyRange(keyCondition, key: keySchema)
        }
        let filter = try filterCondition(request, subs, query: query)
        // "A filter expression cannot contain partition key or sort key attributes" (Query).
        if query, let filter, let keyName = keySchema.names.first(where: filter.topLevelNames.contains) {
            throw DynamoDBError.validation(
                request["QueryFilter"] != nil
                    ? "QueryFilter can only contain non-primary key attributes: Primary key attribute: \(keyName)"
                    : "Filter Expression can only contain non-primary key attributes: Primary key attribute: \(keyName)"
            )
        }
        let paths = try projection(request, subs)
        try subs.checkAllUsed()
        let select = try self.select(request, index: index, projected: paths != nil, query: query)
        let limit = request["Limit"].flatMap { $0 == .null ? nil : Int($0.jsonString) }
        if let limit, limit < 1 {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )
        }
        let forward = request["ScanIndexForward"]?.boolValue ?? true
        let segments = try self.segments(request)
        let start = try startKey(request, table: table, index: index)
        if let range, let start { try Self.checkStart(start, within: range) }
        let (sql, bindings) = Self.rowQuery(
            table: table, index: index, range: range, start: start, query: query, forward: forward)

        var items: [JSONValue] = []
        var count = 0
        var scanned = 0
        var bytes = 0
        var lastKey: Item?
        var stoppedEarly = false
        try db.query(sql, bindings) { row in
            let storedPK = row.blob(4)
            if let (segment, total) = segments {
                var hash: UInt32 = 2_166_136_261
                for b in storedPK { hash = (hash ^ UInt32(b)) &* 16_777_619 }
                if Int(hash % UInt32(total)) != segment { return true }
            }
            let sortBytes = row.blob(3)
            if let prefix = range?.prefix, !sortBytes.starts(with: prefix) {
                return !forward  // sorted: past the prefix going forward means done
            }
            let stored = Self.decodeItem(row.text(0) ?? "{}")
            if let residual = range?.residual, try !residual.evaluate(stored) { return true }
            // An LSI fetches what it does not project from the table; a GSI returns its projection.
            let item =
                index.map { select == "ALL_ATTRIBUTES" && $0.local ? stored : table.projectForIndex($0, stored) }
                ?? stored
            scanned += 1
            bytes += Int(row.integer(1))
            if try filter?.evaluate(item) ?? true {
                count += 1
                if select != "COUNT" { items.append(AttributeValue.wire(project(item, paths))) }
            }
            if scanned == limit || bytes >= Self.pageBytes {
                var key: Item = [:]
                for name in table.key.names + (index?.key.names ?? []) { key[name] = stored[name] }
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
        var consumed = CapacityUsage(table: table.name)
        consumed.read(bytes: bytes, consistent: request["ConsistentRead"]?.boolValue == true, index: index)
        return try consumed.attach(to: .object(response), request)
    }

    /// Select: ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES (indexes), SPECIFIC_ATTRIBUTES (with a
    /// projection), COUNT (without one).
    func select(_ request: JSONValue, index: IndexSchema?, projected: Bool, query: Bool) throws(DynamoDBError)
        -> String
    {
        let select =
            request["Select"]?.stringValue
            ?? (projected ? "SPECIFIC_ATTRIBUTES" : index == nil ? "ALL_ATTRIBUTES" : "ALL_PROJECTED_ATTRIBUTES")
        switch select {
        case "ALL_ATTRIBUTES":
            if let index, !index.local, !index.projectsAll {
                throw .validation(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index \(index.name) because its projection type is not ALL"
                )
            }
        case "ALL_PROJECTED_ATTRIBUTES":
            guard index != nil else {
                throw .validation(
                    "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is supported only for index queries or scans"
                )
            }
        case "SPECIFIC_ATTRIBUTES":
            // Observed (dynoxide's notes, checked against DynamoDB): Query wraps this message in the
            // "1 validation error detected" envelope, Scan does not.
            guard projected else {
                throw .validation(
                    (query ? "1 validation error detected: " : "")
                        + "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
                )
            }
        case "COUNT": break
        default:
            throw .validation(
                "1 validation error detected: Value '\(select)' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]"
            )
        }
        if projected, select != "SPECIFIC_ATTRIBUTES" {
            throw .validation(
                "One or more parameter values were invalid: Cannot specify the AttributesToGet or ProjectionExpression when choosing to get \(select == "COUNT" ? "only the Count" : select)"
            )
        }
        return select
    }

    /// Parallel Scan's Segment and TotalSegments (1 to 1,000,000), both or neither.
    func segments(_ request: JSONValue) throws(DynamoDBError) -> (Int, Int)? {
        let segment = request["Segment"].flatMap { Int($0.jsonString) }
        let total = request["TotalSegments"].flatMap { Int($0.jsonString) }
        switch (segment, total) {
        case (nil, nil): return nil
        case (let segment?, let total?):
            guard (1...1_000_000).contains(total) else {
                throw .validation(
                    "1 validation error detected: Value '\(total)' at 'totalSegments' failed to satisfy constraint: Member must have value \(total < 1 ? "greater than or equal to 1" : "less than or equal to 1000000")"
                )
            }
            guard (0..<total).contains(segment) else {
                throw .validation(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \(segment) is not less than TotalSegments: \(total)"
                )
            }
            return (segment, total)
        case (nil, _):
            throw .validation("The TotalSegments parameter is specified, but the Segment parameter is not provided")
        case (_, nil):
            throw .validation("The Segment parameter is specified, but the TotalSegments parameter is not provided")
        }
    }

    /// Where to resume: the start key's storage keys.
    func startKey(_ request: JSONValue, table: TableSchema, index: IndexSchema?) throws -> [[UInt8]]? {
        guard let startValue = request["ExclusiveStartKey"], startValue != .null else { return nil }
        let startItem = try item(startValue, "ExclusiveStartKey")
        // Key attributes only: the table's, and the index's when reading one (observed: dynalite's
        // suite, run against DynamoDB).
        let keyNames = Set(table.key.names + (index?.key.names ?? []))
        guard startItem.keys.allSatisfy(keyNames.contains), keyNames.allSatisfy({ startItem[$0] != nil }) else {
            throw DynamoDBError.validation(
                "The provided starting key is invalid: The provided key element does not match the schema")
        }
        let tableKey = try table.storageKey(startItem, requireExact: false)
        guard let index else { return [tableKey.pk, tableKey.sk] }
        guard let indexKey = try table.indexKey(index, startItem) else {
            throw DynamoDBError.validation("The provided starting key is invalid")
        }
        return [indexKey.pk, indexKey.sk, tableKey.pk, tableKey.sk]
    }

    /// A Query restarts only inside what its key condition selects: the same partition, and a sort
    /// key the range condition accepts (observed: dynalite's suite, run against DynamoDB, quotes
    /// both messages). `start` is the read's key (partition, sort) bytes first.
    static func checkStart(_ start: [[UInt8]], within range: KeyRange) throws(DynamoDBError) {
        guard start[0] == range.partition else {
            throw .validation("The provided starting key is outside query boundaries based on provided conditions")
        }
        let sort = start[1]
        let aboveLower = range.lower.map {
            $0.inclusive ? !sort.lexicographicallyPrecedes($0.bytes) : $0.bytes.lexicographicallyPrecedes(sort)
        }
        let belowUpper = range.upper.map {
            $0.inclusive ? !$0.bytes.lexicographicallyPrecedes(sort) : sort.lexicographicallyPrecedes($0.bytes)
        }
        let accepted =
            (aboveLower ?? true) && (belowUpper ?? true) && (range.prefix.map { sort.starts(with: $0) } ?? true)
        guard accepted else { throw .validation("The provided starting key does not match the range key predicate") }
    }

    /// The SQL that yields a Query's or Scan's candidate rows in DynamoDB's order.
    static func rowQuery(
        table: TableSchema, index: IndexSchema?, range: KeyRange?, start: [[UInt8]]?, query: Bool, forward: Bool
    ) -> (String, [SQLiteDatabase.Value]) {
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
        let (pkColumn, skColumn) = index == nil ? ("pk", "sk") : ("e.gpk", "e.gsk")
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
            if query {
                // Within one partition only the remaining columns order the rows.
                let tail = index == nil ? "(sk)" : "(e.gsk, e.pk, e.sk)"
                let tailValues = Array(start.dropFirst())
                sql += " AND \(tail) \(forward ? ">" : "<") (\(tailValues.map { _ in "?" }.joined(separator: ", ")))"
                bindings += tailValues.map { .blob($0) }
            } else {
                let columns = index == nil ? "(pk, sk)" : "(e.gpk, e.gsk, e.pk, e.sk)"
                sql += " AND \(columns) > (\(start.map { _ in "?" }.joined(separator: ", ")))"
                bindings += start.map { .blob($0) }
            }
        }
        sql +=
            index == nil
            ? " ORDER BY \(query ? "sk \(order)" : "pk, sk")"
            : " ORDER BY \(query ? "e.gsk \(order), e.pk \(order), e.sk \(order)" : "e.gpk, e.gsk, e.pk, e.sk")"
        return (sql, bindings)
    }
}
