import DynamoDBModel
import JSONCoding

/// PutItem, UpdateItem and DeleteItem: each planned against the current item, then committed.
extension Engine {
    /// The effect of one write, computed against the current state; `commit` applies it.
    struct PlannedWrite {
        var table: TableSchema
        var key: (pk: [UInt8], sk: [UInt8])
        var old: Item?
        var new: Item?  // nil deletes
        /// The document paths an update named (for ReturnValues UPDATED_*).
        var updatedPaths: [DocumentPath] = []
    }

    func planPut(_ request: JSONValue) throws -> PlannedWrite {
        let table = try table(request)
        let item = try item(request["Item"], "Item")
        let subs = try substitutions(request)
        let condition = try writeCondition(request, subs)
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
        let condition = try writeCondition(request, subs)
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
        var update = try Legacy.attributeUpdates(request)
        if let text = request["UpdateExpression"]?.stringValue { update = try ExpressionParser.parseUpdate(text, subs) }
        let condition = try writeCondition(request, subs)
        try subs.checkAllUsed()
        let old = try read(table, key)
        if let condition, try !condition.evaluate(old ?? [:]) { throw failedCondition(request, old: old) }
        var new = old ?? keyItem
        if let update { new = try update.apply(to: new, keyAttributes: table.keyAttributes) }
        for index in table.indexes { _ = try table.indexKey(index, new) }
        guard itemSize(new) <= TableSchema.maxItemBytes else {
            throw DynamoDBError.validation("Item size to update has exceeded the maximum allowed size")
        }
        return PlannedWrite(table: table, key: key, old: old, new: new, updatedPaths: update?.allPaths ?? [])
    }

    func commit(_ write: PlannedWrite) throws {
        if let new = write.new { try self.write(write.table, new) } else { try remove(write.table, write.key) }
        try recordChange(write)
    }

    /// Plans and commits one single-item write in one transaction: a failed check writes nothing.
    func committed(_ plan: () throws -> PlannedWrite) throws -> PlannedWrite {
        try db.transaction {
            let planned = try plan()
            try commit(planned)
            return planned
        }
    }

    func putItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD"])
        let planned = try committed { try planPut(request) }
        return try finish(planned, request, mode == "ALL_OLD" ? planned.old : nil)
    }

    /// The write's answer: the attributes ReturnValues asked for, consumed capacity, and the item
    /// collection's metrics (tables with local secondary indexes, ReturnItemCollectionMetrics=SIZE).
    func finish(_ planned: PlannedWrite, _ request: JSONValue, _ attributes: Item?) throws -> JSONValue {
        var response: JSONObject = [:]
        if let attributes, !attributes.isEmpty { response["Attributes"] = AttributeValue.wire(attributes) }
        switch request["ReturnItemCollectionMetrics"]?.stringValue ?? "NONE" {
        case "NONE": break
        case "SIZE":
            if !planned.table.localIndexes.isEmpty, let item = planned.new ?? planned.old {
                let partition = planned.table.key.partition
                response["ItemCollectionMetrics"] = [
                    "ItemCollectionKey": AttributeValue.wire([partition: item[partition]!]),
                    "SizeEstimateRangeGB": [.number("0.0"), .number("1.0")],
                ]
            }
        case let other:
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(other)' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]"
            )
        }
        guard try CapacityUsage.mode(request) != nil else { return .object(response) }
        var consumed = CapacityUsage(table: planned.table.name)
        consumed.write(planned)
        return try consumed.attach(to: .object(response), request)
    }

    func deleteItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD"])
        let planned = try committed { try planDelete(request) }
        return try finish(planned, request, mode == "ALL_OLD" ? planned.old : nil)
    }

    func updateItem(_ request: JSONValue) throws -> JSONValue {
        let mode = try returnValues(request, allowed: ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])
        let planned = try committed { try planUpdate(request) }
        let old = planned.old ?? [:]
        let new = planned.new ?? [:]
        // UPDATED_*: the paths the update named, nested as they are ("SET a.b" returns {a: {b}}).
        let paths = planned.updatedPaths
        let attributes: Item? =
            switch mode {
            case "ALL_OLD": planned.old
            case "ALL_NEW": new
            case "UPDATED_OLD": project(old, paths)
            case "UPDATED_NEW": project(new, paths)
            default: nil
            }
        return try finish(planned, request, attributes)
    }
}
