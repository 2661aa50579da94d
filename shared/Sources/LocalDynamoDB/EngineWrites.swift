import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// PutItem, UpdateItem and DeleteItem: each planned against the current item, then committed.
extension Engine {
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
}
