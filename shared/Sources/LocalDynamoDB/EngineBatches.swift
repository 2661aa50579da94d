import DynamoDBModel
import JSONCoding

/// BatchWriteItem and BatchGetItem.
extension Engine {
    func batchWriteItem(_ request: JSONValue) throws -> JSONValue {
        guard let items = request["RequestItems"] else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null"
            )
        }
        let requestItems = try Parameters.map(items)
        guard !requestItems.isEmpty else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        }
        // Each table's list holds 1 to 25 requests, and the batch 25 at most (API reference,
        // BatchWriteItem: RequestItems; the messages observed).
        let lists = try requestItems.map { (table: $0.key, operations: try Parameters.list($0.value)) }
        guard lists.allSatisfy({ (1...25).contains($0.operations.count) }) else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
            )
        }
        guard lists.reduce(0, { $0 + $1.operations.count }) <= 25 else {
            throw DynamoDBError.validation("Too many items requested for the BatchWriteItem call")
        }
        var writes: [PlannedWrite] = []
        var seen: Set<[UInt8]> = []
        for (tableName, operations) in lists {
            guard let table = tables[tableName] else { throw DynamoDBError.resourceNotFound() }
            for operation in operations {
                let planned: PlannedWrite
                guard operation.objectValue?.count == 1 else {
                    throw DynamoDBError.validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    )
                }
                if let put = operation["PutRequest"] {
                    try Parameters.check(put, allowed: ["Item"], context: "BatchWriteItem PutRequest")
                    let item = try item(put["Item"], "Item")
                    planned = PlannedWrite(
                        table: table, key: try table.storageKey(item, requireExact: false), old: nil, new: item)
                    for index in table.indexes { _ = try table.indexKey(index, item) }
                    guard itemSize(item) <= TableSchema.maxItemBytes else {
                        throw DynamoDBError.validation("Item size has exceeded the maximum allowed size")
                    }
                } else if let delete = operation["DeleteRequest"] {
                    try Parameters.check(delete, allowed: ["Key"], context: "BatchWriteItem DeleteRequest")
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
        let usages =
            try CapacityUsage.mode(request) == nil
            ? []
            : writes.map { write -> CapacityUsage in
                var usage = CapacityUsage(table: write.table.name)
                usage.write(write)
                return usage
            }
        return try CapacityUsage.attach(usages, to: ["UnprocessedItems": [:]], request)
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
        var usages: [CapacityUsage] = []
        for (tableName, spec) in requestItems {
            guard let table = tables[tableName] else { throw DynamoDBError.resourceNotFound() }
            try Parameters.check(
                spec, allowed: Parameters.batchGetTable.union(["ExpressionAttributeNames"]), context: "BatchGetItem")
            try Parameters.checkStyle(spec)
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
                let item = try read(table, key)
                var usage = CapacityUsage(table: tableName)
                usage.read(
                    bytes: item.map(itemSize) ?? 0, consistent: spec["ConsistentRead"]?.boolValue == true, index: nil)
                usages.append(usage)
                if let item { found.append(AttributeValue.wire(project(item, paths))) }
            }
            responses[tableName] = .array(found)
        }
        return try CapacityUsage.attach(usages, to: ["Responses": .object(responses), "UnprocessedKeys": [:]], request)
    }
}
