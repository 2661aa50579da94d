import DynamoDBModel
import JSONCoding

/// CreateTable, DescribeTable, DeleteTable, ListTables and time to live.
extension Engine {
    static func tableArn(_ name: String) -> String { "arn:aws:dynamodb:local:000000000000:table/\(name)" }

    func createTable(_ request: JSONValue) throws -> JSONValue {
        let schema = try TableSchema(definition: request, created: nowSeconds, ttlAttribute: nil)
        guard tables[schema.name] == nil else {
            throw DynamoDBError.resourceInUse("Table already exists: \(schema.name)")
        }
        let tags = try Self.tags(request["Tags"])
        let stream = try StreamSettings(request["StreamSpecification"])
        var definition = request
        try db.transaction {
            if let stream, stream.enabled {
                definition = try startStream(table: schema, view: stream.view, definition: definition)
            }
            try db.run(
                "INSERT INTO ddb_tables (name, definition, created) VALUES (?, ?, ?)",
                [.text(schema.name), .text(definition.jsonString), .integer(schema.created)])
            try storeTags(tags, arn: Self.tableArn(schema.name))
        }
        var stored = schema
        stored.definition = definition
        tables[schema.name] = stored
        return ["TableDescription": try describe(stored)]
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

    /// A table's description with its live counts, index statuses and stream.
    func describe(_ table: TableSchema) throws -> JSONValue {
        let (count, size) = try statistics(table)
        guard case .object(var description) = table.description(itemCount: count, sizeBytes: size) else { return [:] }
        let pending = transitions[table.name]?.filter { $0.value.until > now() } ?? [:]
        description["TableStatus"] = pending.isEmpty ? "ACTIVE" : "UPDATING"
        if case .array(let indexes)? = description["GlobalSecondaryIndexes"] {
            description["GlobalSecondaryIndexes"] = .array(
                indexes.map { index in
                    guard case .object(var object) = index, let name = object["IndexName"]?.stringValue else {
                        return index
                    }
                    let status = pending[name]?.status ?? "ACTIVE"
                    object["IndexStatus"] = .string(status)
                    if status == "CREATING" { object["Backfilling"] = true }
                    return .object(object)
                })
        }
        for (name, transition) in pending where transition.status == "DELETING" {
            var indexes = description["GlobalSecondaryIndexes"]?.arrayValue ?? []
            indexes.append(["IndexName": .string(name), "IndexStatus": "DELETING"])
            description["GlobalSecondaryIndexes"] = .array(indexes)
        }
        return .object(description)
    }

    /// An index's status: CREATING or DELETING while UpdateTable's change settles, else ACTIVE.
    func indexStatus(table: String, index: String) -> String {
        guard let transition = transitions[table]?[index], transition.until > now() else { return "ACTIVE" }
        return transition.status
    }

    func describeTable(_ request: JSONValue) throws -> JSONValue {
        guard let name = request["TableName"]?.stringValue else {
            throw DynamoDBError.validation("TableName is required")
        }
        guard let table = tables[name] else {
            throw DynamoDBError.resourceNotFound("Requested resource not found: Table: \(name) not found")
        }
        return ["Table": try describe(table)]
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
        var description = try describe(table)
        try db.transaction {
            try db.run("DELETE FROM ddb_index_entries WHERE tbl = ?", [.text(name)])
            try db.run("DELETE FROM ddb_items WHERE tbl = ?", [.text(name)])
            try db.run("DELETE FROM ddb_tables WHERE name = ?", [.text(name)])
            try db.run("DELETE FROM ddb_tags WHERE arn = ?", [.text(Self.tableArn(name))])
            // A deleted table's stream stays readable for 24 hours, disabled.
            try db.run("UPDATE ddb_streams SET enabled = 0 WHERE tbl = ?", [.text(name)])
        }
        tables[name] = nil
        transitions[name] = nil
        if case .object(var o) = description {
            o["TableStatus"] = "DELETING"
            description = .object(o)
        }
        return ["TableDescription": description]
    }

    /// UpdateTable: one global secondary index created (backfilled) or deleted per call, streams
    /// enabled or disabled, deletion protection, billing mode, table class and SSE settings
    /// (API Reference, UpdateTable; Developer Guide, "Adding a global secondary index to an
    /// existing table": the index is CREATING, then ACTIVE; the table is UPDATING meanwhile).
    func updateTable(_ request: JSONValue) throws -> JSONValue {
        var table = try table(request)
        let changes = [
            "ProvisionedThroughput", "BillingMode", "StreamSpecification", "GlobalSecondaryIndexUpdates",
            "SSESpecification", "DeletionProtectionEnabled", "TableClass", "OnDemandThroughput", "WarmThroughput",
        ]
        guard changes.contains(where: { request[$0] != nil }) else {
            throw DynamoDBError.validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        }
        guard (transitions[table.name]?.filter { $0.value.until > now() } ?? [:]).isEmpty else {
            throw DynamoDBError.resourceInUse(
                "Attempt to change a resource which is still in use: Table is being updated: \(table.name)")
        }
        guard case .object(var definition) = table.definition else {
            throw DynamoDBError.internalFailure("bad definition")
        }
        for name in [
            "ProvisionedThroughput", "BillingMode", "SSESpecification", "DeletionProtectionEnabled", "TableClass",
            "OnDemandThroughput", "WarmThroughput",
        ] {
            if let value = request[name] { definition[name] = value }
        }
        if definition["BillingMode"]?.stringValue == "PAY_PER_REQUEST" { definition["ProvisionedThroughput"] = nil }
        try TableSchema.checkBilling(.object(definition))
        var backfill: IndexSchema?
        if let updates = request["GlobalSecondaryIndexUpdates"]?.arrayValue {
            guard updates.count == 1 else {
                throw DynamoDBError.validation(
                    "One or more parameter values were invalid: Only one global secondary index update per UpdateTable call is supported (create or delete one index at a time)"
                )
            }
            let update = updates[0]
            var globals = definition["GlobalSecondaryIndexes"]?.arrayValue ?? []
            if let create = update["Create"] {
                var attributes = definition["AttributeDefinitions"]?.arrayValue ?? []
                for attribute in request["AttributeDefinitions"]?.arrayValue ?? [] {
                    guard let n = attribute["AttributeName"]?.stringValue else { continue }
                    if let existing = attributes.first(where: { $0["AttributeName"]?.stringValue == n }) {
                        guard existing["AttributeType"] == attribute["AttributeType"] else {
                            throw DynamoDBError.validation(
                                "One or more parameter values were invalid: Attribute \(n) is already defined with type \(existing["AttributeType"]?.stringValue ?? "?")"
                            )
                        }
                    } else {
                        attributes.append(attribute)
                    }
                }
                definition["AttributeDefinitions"] = .array(attributes)
                globals.append(create)
                definition["GlobalSecondaryIndexes"] = .array(globals)
                backfill = try TableSchema(
                    definition: .object(definition), created: table.created, ttlAttribute: table.ttlAttribute
                )
                .indexes.first { $0.name == create["IndexName"]?.stringValue }
            } else if let delete = update["Delete"] {
                guard let name = delete["IndexName"]?.stringValue,
                    globals.contains(where: { $0["IndexName"]?.stringValue == name })
                else {
                    throw DynamoDBError.resourceNotFound(
                        "Requested resource not found: Index: \(delete["IndexName"]?.stringValue ?? "") not found")
                }
                globals.removeAll { $0["IndexName"]?.stringValue == name }
                definition["GlobalSecondaryIndexes"] = globals.isEmpty ? nil : .array(globals)
                // Attribute definitions only index keys used: drop the ones no key uses any more.
                let stillUsed = Set(
                    table.key.names + table.localIndexes.flatMap(\.key.names)
                        + table.globalIndexes.filter { $0.name != name }.flatMap(\.key.names))
                definition["AttributeDefinitions"] = .array(
                    (definition["AttributeDefinitions"]?.arrayValue ?? []).filter {
                        stillUsed.contains($0["AttributeName"]?.stringValue ?? "")
                    })
                try db.run("DELETE FROM ddb_index_entries WHERE tbl = ? AND idx = ?", [.text(table.name), .text(name)])
                transitions[table.name, default: [:]][name] = ("DELETING", now() + transitionMilliseconds)
            } else if let change = update["Update"] {
                guard let name = change["IndexName"]?.stringValue,
                    let at = globals.firstIndex(where: { $0["IndexName"]?.stringValue == name }),
                    case .object(var index) = globals[at]
                else { throw DynamoDBError.resourceNotFound("Requested resource not found: Index not found") }
                for field in ["ProvisionedThroughput", "OnDemandThroughput", "WarmThroughput"] {
                    if let v = change[field] { index[field] = v }
                }
                globals[at] = .object(index)
                definition["GlobalSecondaryIndexes"] = .array(globals)
            } else {
                throw DynamoDBError.validation(
                    "GlobalSecondaryIndexUpdates entries take one of Create, Update or Delete")
            }
        }
        if let spec = request["StreamSpecification"], let stream = try StreamSettings(spec) {
            let current = table.definition["StreamSpecification"]?["StreamEnabled"]?.boolValue == true
            if stream.enabled == current {
                throw DynamoDBError.validation(
                    stream.enabled
                        ? "Table already has an enabled stream: \(table.name)"
                        : "Table does not have an enabled stream: \(table.name)")
            }
            if stream.enabled {
                definition =
                    try startStream(table: table, view: stream.view, definition: .object(definition)).objectValue
                    ?? definition
            } else {
                try db.run("UPDATE ddb_streams SET enabled = 0 WHERE tbl = ?", [.text(table.name)])
                definition["StreamSpecification"] = ["StreamEnabled": false]
            }
        }
        let updated = try TableSchema(
            definition: .object(definition), created: table.created, ttlAttribute: table.ttlAttribute)
        try db.transaction {
            if let backfill {
                // Existing items go into the new index; items whose key attributes do not fit it
                // are left out, as DynamoDB's backfill leaves them (and reports violations).
                var items: [Item] = []
                try db.query("SELECT item FROM ddb_items WHERE tbl = ?", [.text(table.name)]) { row in
                    items.append(Self.decodeItem(row.text(0) ?? "{}"))
                    return true
                }
                for item in items {
                    guard let indexKey = try? updated.indexKey(backfill, item) else { continue }
                    let key = try updated.storageKey(item, requireExact: false)
                    try db.run(
                        "INSERT OR REPLACE INTO ddb_index_entries (tbl, idx, gpk, gsk, pk, sk) VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            .text(table.name), .text(backfill.name), .blob(indexKey.pk), .blob(indexKey.sk),
                            .blob(key.pk), .blob(key.sk),
                        ])
                }
                transitions[table.name, default: [:]][backfill.name] = ("CREATING", now() + transitionMilliseconds)
            }
            try db.run(
                "UPDATE ddb_tables SET definition = ? WHERE name = ?",
                [.text(JSONValue.object(definition).jsonString), .text(table.name)])
        }
        table = updated
        tables[table.name] = table
        return ["TableDescription": try describe(table)]
    }

    func listTables(_ request: JSONValue) throws -> JSONValue {
        let start = request["ExclusiveStartTableName"]?.stringValue
        let limit = request["Limit"].flatMap { Int($0.jsonString) } ?? 100
        // "Limit: ... Valid Range: Minimum value of 1. Maximum value of 100." (API_ListTables)
        guard (1...100).contains(limit) else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to 100")"
            )
        }
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
        // Observed: time to live names one attribute; enabling or disabling it under another name is
        // refused, naming the current one, before the enabled/disabled checks.
        if let current = table.ttlAttribute, current != attribute {
            throw DynamoDBError.validation(
                "TimeToLive is active on a different AttributeName: current AttributeName is \(current)")
        }
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

/// Tags: TagResource, UntagResource, ListTagsOfResource (API Reference; Developer Guide, "Tagging
/// resources in DynamoDB": at most 50 tags, keys 1-128 characters, values 0-256, the `aws:`
/// prefix reserved).
extension Engine {
    static func tags(_ value: JSONValue?) throws(DynamoDBError) -> [(String, String)] {
        guard let value else { return [] }
        guard let list = value.arrayValue else { throw .validation("Tags must be a list of {Key, Value}") }
        var result: [(String, String)] = []
        for tag in list {
            guard let key = tag["Key"]?.stringValue, let value = tag["Value"]?.stringValue else {
                throw .validation(
                    "1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null"
                )
            }
            guard (1...128).contains(key.count) else {
                throw .validation(
                    "1 validation error detected: Value '\(key)' at 'tags.member.key' failed to satisfy constraint: Member must have length \(key.isEmpty ? "greater than or equal to 1" : "less than or equal to 128")"
                )
            }
            guard value.count <= 256 else {
                throw .validation(
                    "1 validation error detected: Value '\(value)' at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"
                )
            }
            // Developer Guide, "Tagging restrictions in DynamoDB": letters, white space, numbers, + - = . _ : /
            for (field, text) in [("key", key), ("value", value)]
            where !text.unicodeScalars.allSatisfy(Self.tagCharacter) {
                throw .validation(
                    "1 validation error detected: Value '\(text)' at 'tags.member.\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-]*"
                )
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw .validation(
                    "One or more parameter values were invalid: Tag keys may not start with the reserved prefix aws: \(key)"
                )
            }
            result.append((key, value))
        }
        return result
    }

    /// A letter (\p{L}), a number (\p{N}), a separator (\p{Z}: spaces) or one of `+ - = . _ : /`.
    static func tagCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber,
            .letterNumber, .otherNumber, .spaceSeparator, .lineSeparator, .paragraphSeparator:
            return true
        default: return "+-=._:/".unicodeScalars.contains(scalar)
        }
    }

    /// The table a tagging call names (observed; DynamoDB documents no messages here): no ARN is
    /// "Invalid TableArn"; a string that is not ARN-shaped (six `:` fields, then `/`) is refused as
    /// IAM refuses an unauthorized resource; an ARN that is not a table's (an index's, a name under
    /// 3 characters) is "Invalid ResourceArn"; a table that is not there is not found.
    func taggedTable(_ request: JSONValue, action: String) throws(DynamoDBError) -> String {
        guard let arn = request["ResourceArn"]?.stringValue else { throw .validation("Invalid TableArn") }
        let fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, fields.allSatisfy({ !$0.isEmpty }), let slash = fields[5].firstIndex(of: "/"),
            fields[5].index(after: slash) < fields[5].endIndex
        else { throw .accessDenied(action, resource: arn.isEmpty ? "*" : arn) }
        let resource = fields[5]
        let name = String(resource[resource.index(after: slash)...])
        guard fields[0] == "arn", fields[2] == "dynamodb", resource[..<slash] == "table", !name.contains("/"),
            (3...255).contains(name.utf8.count)
        else { throw .validation("Invalid TableArn: Invalid ResourceArn provided as input \(arn)") }
        guard tables[name] != nil, arn == Self.tableArn(name) else {
            throw .resourceNotFound("Requested resource not found: ResourcArn: \(arn) not found")
        }
        return arn
    }

    func currentTags(_ arn: String) throws -> [(String, String)] {
        var tags: [(String, String)] = []
        try db.query("SELECT key, value FROM ddb_tags WHERE arn = ? ORDER BY key", [.text(arn)]) { row in
            tags.append((row.text(0) ?? "", row.text(1) ?? ""))
            return true
        }
        return tags
    }

    func storeTags(_ tags: [(String, String)], arn: String) throws {
        var merged = Dictionary(try currentTags(arn), uniquingKeysWith: { $1 })
        for (key, value) in tags { merged[key] = value }
        guard merged.count <= 50 else {
            throw DynamoDBError.validation(
                "One or more parameter values were invalid: The number of tags exceeds the limit of 50")
        }
        for (key, value) in tags {
            try db.run(
                "INSERT OR REPLACE INTO ddb_tags (arn, key, value) VALUES (?, ?, ?)",
                [.text(arn), .text(key), .text(value)])
        }
    }

    func tagResource(_ request: JSONValue) throws -> JSONValue {
        let arn = try taggedTable(request, action: "TagResource")
        guard request["Tags"] != nil else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"
            )
        }
        let tags = try Self.tags(request["Tags"])
        guard !tags.isEmpty else { throw DynamoDBError.validation("Atleast one Tag needs to be provided as Input.") }
        try db.transaction { try storeTags(tags, arn: arn) }
        return [:]
    }

    func untagResource(_ request: JSONValue) throws -> JSONValue {
        let arn = try taggedTable(request, action: "UntagResource")
        guard let keys = request["TagKeys"]?.arrayValue?.compactMap(\.stringValue) else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"
            )
        }
        try db.transaction {
            for key in keys { try db.run("DELETE FROM ddb_tags WHERE arn = ? AND key = ?", [.text(arn), .text(key)]) }
        }
        return [:]
    }

    func listTagsOfResource(_ request: JSONValue) throws -> JSONValue {
        let arn = try taggedTable(request, action: "ListTagsOfResource")
        return ["Tags": .array(try currentTags(arn).map { ["Key": .string($0.0), "Value": .string($0.1)] })]
    }
}
