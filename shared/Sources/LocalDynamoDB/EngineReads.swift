import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// GetItem, Query and Scan.
extension Engine {
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
}
