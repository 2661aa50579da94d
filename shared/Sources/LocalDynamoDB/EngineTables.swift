import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// CreateTable, DescribeTable, DeleteTable, ListTables and time to live.
extension Engine {
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
}
