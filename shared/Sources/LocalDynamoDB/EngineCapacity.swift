import DynamoDBModel
import JSONCoding

/// What a request consumed, as ReturnConsumedCapacity reports it (Developer Guide, "Read/write
/// capacity mode" and "Working with items: ReturnConsumedCapacity"): a read unit per 4 KB read,
/// strongly consistent, half for eventually consistent; a write unit per 1 KB written; both
/// doubled in a transaction; every index write counted against its index.
struct CapacityUsage {
    var table: String
    var tableRead = 0.0
    var tableWrite = 0.0
    var global: [String: (read: Double, write: Double)] = [:]
    var local: [String: (read: Double, write: Double)] = [:]
    var transactional = false

    init(table: String, transactional: Bool = false) {
        self.table = table
        self.transactional = transactional
    }

    static func readUnits(bytes: Int, consistent: Bool) -> Double {
        let blocks = Double(max(1, (bytes + 4095) / 4096))
        return consistent ? blocks : blocks / 2
    }

    static func writeUnits(bytes: Int) -> Double { Double(max(1, (bytes + 1023) / 1024)) }

    mutating func read(bytes: Int, consistent: Bool, index: IndexSchema?) {
        let units =
            transactional
            ? 2 * Self.readUnits(bytes: bytes, consistent: true) : Self.readUnits(bytes: bytes, consistent: consistent)
        guard let index else {
            tableRead += units
            return
        }
        if index.local {
            local[index.name, default: (0, 0)].read += units
        } else {
            global[index.name, default: (0, 0)].read += units
        }
    }

    /// One item write: the larger of the item before and after (a delete: the item deleted), and
    /// each index entry it puts or deletes (a changed index key is a delete and a put).
    mutating func write(_ planned: Engine.PlannedWrite) {
        let factor = transactional ? 2.0 : 1.0
        let size = max(planned.old.map(itemSize) ?? 0, planned.new.map(itemSize) ?? 0)
        tableWrite += factor * Self.writeUnits(bytes: size)
        for index in planned.table.indexes {
            let before = planned.old.flatMap { try? planned.table.indexKey(index, $0) }.map { _ in
                planned.table.projectForIndex(index, planned.old!)
            }
            let after = planned.new.flatMap { try? planned.table.indexKey(index, $0) }.map { _ in
                planned.table.projectForIndex(index, planned.new!)
            }
            var units = 0.0
            switch (before, after) {
            case (nil, nil): break
            case (let old?, nil): units = Self.writeUnits(bytes: itemSize(old))
            case (nil, let new?): units = Self.writeUnits(bytes: itemSize(new))
            case (let old?, let new?):
                let sameKey = index.key.names.allSatisfy { old[$0] == new[$0] }
                if !sameKey {
                    units = Self.writeUnits(bytes: itemSize(old)) + Self.writeUnits(bytes: itemSize(new))
                } else if old != new {
                    units = Self.writeUnits(bytes: itemSize(new))
                }
            }
            guard units > 0 else { continue }
            if index.local {
                local[index.name, default: (0, 0)].write += units
            } else {
                global[index.name, default: (0, 0)].write += units
            }
        }
    }

    var total: Double {
        tableRead + tableWrite + global.values.reduce(0) { $0 + $1.read + $1.write }
            + local.values.reduce(0) { $0 + $1.read + $1.write }
    }

    static func units(read: Double, write: Double) -> JSONObject {
        var object: JSONObject = ["CapacityUnits": .number(format(read + write))]
        if read > 0 { object["ReadCapacityUnits"] = .number(format(read)) }
        if write > 0 { object["WriteCapacityUnits"] = .number(format(write)) }
        return object
    }

    static func format(_ value: Double) -> String { value == value.rounded() ? "\(Int(value)).0" : String(value) }

    /// The ConsumedCapacity object for `mode` (TOTAL or INDEXES).
    func json(mode: String) -> JSONValue {
        var object = Self.units(
            read: tableRead + global.values.reduce(0) { $0 + $1.read } + local.values.reduce(0) { $0 + $1.read },
            write: tableWrite + global.values.reduce(0) { $0 + $1.write } + local.values.reduce(0) { $0 + $1.write })
        object["TableName"] = .string(table)
        if mode == "INDEXES" {
            object["Table"] = .object(Self.units(read: tableRead, write: tableWrite))
            if !global.isEmpty {
                object["GlobalSecondaryIndexes"] = .object(
                    JSONObject(
                        global.sorted { $0.key < $1.key }.map {
                            ($0.key, .object(Self.units(read: $0.value.read, write: $0.value.write)))
                        }))
            }
            if !local.isEmpty {
                object["LocalSecondaryIndexes"] = .object(
                    JSONObject(
                        local.sorted { $0.key < $1.key }.map {
                            ($0.key, .object(Self.units(read: $0.value.read, write: $0.value.write)))
                        }))
            }
        }
        return .object(object)
    }

    /// ReturnConsumedCapacity: INDEXES, TOTAL or NONE (default).
    static func mode(_ request: JSONValue) throws(DynamoDBError) -> String? {
        switch request["ReturnConsumedCapacity"]?.stringValue ?? "NONE" {
        case "NONE": return nil
        case "TOTAL": return "TOTAL"
        case "INDEXES": return "INDEXES"
        case let other:
            throw .validation(
                "1 validation error detected: Value '\(other)' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
            )
        }
    }

    /// The response with `ConsumedCapacity` when the request asked for it.
    func attach(to response: JSONValue, _ request: JSONValue) throws(DynamoDBError) -> JSONValue {
        guard let mode = try Self.mode(request), case .object(var object) = response else { return response }
        object["ConsumedCapacity"] = json(mode: mode)
        return .object(object)
    }

    /// Batches and transactions: one ConsumedCapacity per table, as a list.
    static func attach(_ usages: [CapacityUsage], to response: JSONValue, _ request: JSONValue) throws(DynamoDBError)
        -> JSONValue
    {
        guard let mode = try mode(request), case .object(var object) = response else { return response }
        var merged: [String: CapacityUsage] = [:]
        for usage in usages {
            var total = merged[usage.table] ?? CapacityUsage(table: usage.table, transactional: usage.transactional)
            total.tableRead += usage.tableRead
            total.tableWrite += usage.tableWrite
            for (name, units) in usage.global {
                total.global[name, default: (0, 0)].read += units.read
                total.global[name, default: (0, 0)].write += units.write
            }
            for (name, units) in usage.local {
                total.local[name, default: (0, 0)].read += units.read
                total.local[name, default: (0, 0)].write += units.write
            }
            merged[usage.table] = total
        }
        object["ConsumedCapacity"] = .array(merged.keys.sorted().map { merged[$0]!.json(mode: mode) })
        return .object(object)
    }
}
