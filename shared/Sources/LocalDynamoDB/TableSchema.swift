import DynamoDBModel
import JSONCoding

/// A table's keys and indexes, as CreateTable declared them.
struct KeySchema {
    var partition: String
    var sort: String?
    var names: [String] { [partition] + (sort.map { [$0] } ?? []) }
}

struct IndexSchema {
    enum Projection {
        case all
        case keysOnly
        case include([String])
    }
    var name: String
    var key: KeySchema
    var projection: Projection
}

struct TableSchema {
    var name: String
    var key: KeySchema
    var attributeTypes: [String: String]
    var indexes: [IndexSchema]
    var ttlAttribute: String?
    var created: Int64
    var definition: JSONValue

    static let maxItemBytes = 409_600

    init(definition: JSONValue, created: Int64, ttlAttribute: String?) throws(DynamoDBError) {
        guard let name = definition["TableName"]?.stringValue else {
            throw .validation(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        }
        guard name.count >= 3, name.count <= 255 else {
            throw .validation(
                "1 validation error detected: Value '\(name)' at 'tableName' failed to satisfy constraint: Member must have length \(name.count < 3 ? "greater than or equal to 3" : "less than or equal to 255")"
            )
        }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
            throw .validation(
                "1 validation error detected: Value '\(name)' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        }
        self.name = name
        self.created = created
        self.ttlAttribute = ttlAttribute
        self.definition = definition
        var types: [String: String] = [:]
        for attribute in definition["AttributeDefinitions"]?.arrayValue ?? [] {
            guard let n = attribute["AttributeName"]?.stringValue, let t = attribute["AttributeType"]?.stringValue,
                ["S", "N", "B"].contains(t)
            else {
                throw .validation("One or more parameter values were invalid: invalid AttributeDefinitions")
            }
            types[n] = t
        }
        attributeTypes = types
        key = try Self.keySchema(definition["KeySchema"], types: types, context: "table")
        var indexes: [IndexSchema] = []
        for index in definition["GlobalSecondaryIndexes"]?.arrayValue ?? [] {
            guard let indexName = index["IndexName"]?.stringValue else { throw .validation("IndexName is required") }
            let projection: IndexSchema.Projection
            switch index["Projection"]?["ProjectionType"]?.stringValue ?? "ALL" {
            case "ALL": projection = .all
            case "KEYS_ONLY": projection = .keysOnly
            case "INCLUDE":
                projection = .include(
                    index["Projection"]?["NonKeyAttributes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            default: throw .validation("Unknown ProjectionType")
            }
            indexes.append(
                IndexSchema(
                    name: indexName,
                    key: try Self.keySchema(index["KeySchema"], types: types, context: "index \(indexName)"),
                    projection: projection))
        }
        if definition["LocalSecondaryIndexes"]?.arrayValue?.isEmpty == false {
            throw .validation(
                "LocalSecondaryIndexes are not supported by the local DynamoDB; use a GlobalSecondaryIndex")
        }
        self.indexes = indexes
        let used = Set(key.names + indexes.flatMap(\.key.names))
        if Set(types.keys) != used {
            throw .validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
            )
        }
    }

    static func keySchema(_ value: JSONValue?, types: [String: String], context: String) throws(DynamoDBError)
        -> KeySchema
    {
        var partition: String?
        var sort: String?
        for element in value?.arrayValue ?? [] {
            guard let n = element["AttributeName"]?.stringValue, types[n] != nil else {
                throw .validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions"
                )
            }
            switch element["KeyType"]?.stringValue {
            case "HASH": partition = n
            case "RANGE": sort = n
            default: throw .validation("Invalid KeyType in KeySchema of \(context)")
            }
        }
        guard let partition else {
            throw .validation("No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key")
        }
        return KeySchema(partition: partition, sort: sort)
    }

    var keyAttributes: Set<String> { Set(key.names) }

    /// The (partition, sort) storage keys of an item or key map, validating types.
    func storageKey(_ item: Item, requireExact: Bool) throws(DynamoDBError) -> (pk: [UInt8], sk: [UInt8]) {
        if requireExact, item.count != key.names.count || !key.names.allSatisfy({ item[$0] != nil }) {
            throw .validation("The provided key element does not match the schema")
        }
        let pk = try keyBytes(item, key.partition, role: "key")
        let sk = try key.sort.map { (name) throws(DynamoDBError) in try keyBytes(item, name, role: "key") } ?? []
        return (pk, sk)
    }

    func keyBytes(_ item: Item, _ name: String, role: String) throws(DynamoDBError) -> [UInt8] {
        guard let value = item[name] else {
            throw .validation(requireMessage(name))
        }
        guard value.typeName == attributeTypes[name] else {
            throw .validation(
                "One or more parameter values were invalid: Type mismatch for key \(name) expected: \(attributeTypes[name] ?? "?") actual: \(value.typeName)"
            )
        }
        return try Self.encode(value, name: name)
    }

    func requireMessage(_ name: String) -> String {
        "One or more parameter values were invalid: Missing the key \(name) in the item"
    }

    static func encode(_ value: AttributeValue, name: String) throws(DynamoDBError) -> [UInt8] {
        switch value {
        case .s(let s):
            guard !s.isEmpty else {
                throw .validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: \(name)"
                )
            }
            return Array(s.utf8)
        case .n(let n): return n.orderedKey
        case .b(let b):
            guard !b.isEmpty else {
                throw .validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: \(name)"
                )
            }
            return b
        default: throw .validation("Key attribute \(name) must be S, N or B")
        }
    }

    /// The index's storage key for an item, or nil when the item lacks an index key (sparse index).
    /// Every index key attribute the item has is checked first, sparse or not: DynamoDB refuses a
    /// write whose attribute named like an index key has the wrong type or is empty, even when the
    /// item would not be in the index (Developer Guide, "Global secondary indexes" / "Working with
    /// global secondary indexes": index key attributes must be scalars of the declared type).
    func indexKey(_ index: IndexSchema, _ item: Item) throws(DynamoDBError) -> (pk: [UInt8], sk: [UInt8])? {
        for name in index.key.names {
            guard let value = item[name] else { continue }
            if value.typeName != attributeTypes[name] {
                throw .validation(
                    "One or more parameter values were invalid: Type mismatch for Index Key \(name) Expected: \(attributeTypes[name] ?? "?") Actual: \(value.typeName) IndexName: \(index.name)"
                )
            }
            let empty: Bool
            switch value {
            case .s(let text): empty = text.isEmpty
            case .b(let bytes): empty = bytes.isEmpty
            default: empty = false
            }
            if empty {
                throw .validation(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty \(value.typeName == "S" ? "string" : "binary") value. IndexName: \(index.name), IndexKey: \(name)"
                )
            }
        }
        guard let p = item[index.key.partition] else { return nil }
        let s = index.key.sort.flatMap { item[$0] }
        if index.key.sort != nil, s == nil { return nil }
        return (
            try Self.encode(p, name: index.key.partition),
            try s.map { (v) throws(DynamoDBError) in try Self.encode(v, name: index.key.sort!) } ?? []
        )
    }

    /// What an index returns of an item.
    func projectForIndex(_ index: IndexSchema, _ item: Item) -> Item {
        switch index.projection {
        case .all: return item
        case .keysOnly, .include:
            var keep = Set(key.names + index.key.names)
            if case .include(let extra) = index.projection { keep.formUnion(extra) }
            return item.filter { keep.contains($0.key) }
        }
    }

    func expiry(of item: Item) -> Int64? {
        guard let ttlAttribute, case .n(let n)? = item[ttlAttribute], !n.negative, let seconds = Double(n.description)
        else { return nil }
        return Int64(seconds)
    }

    func description(itemCount: Int, sizeBytes: Int) -> JSONValue {
        let arn = "arn:aws:dynamodb:local:000000000000:table/\(name)"
        var table: JSONObject = [
            "TableName": .string(name), "TableArn": .string(arn), "TableId": .string("local-\(name)"),
            "TableStatus": "ACTIVE",
            "KeySchema": definition["KeySchema"] ?? [],
            "AttributeDefinitions": definition["AttributeDefinitions"] ?? [],
            "CreationDateTime": .number(String(created)), "ItemCount": .number(String(itemCount)),
            "TableSizeBytes": .number(String(sizeBytes)),
            "BillingModeSummary": ["BillingMode": .string(definition["BillingMode"]?.stringValue ?? "PROVISIONED")],
            "ProvisionedThroughput": ["ReadCapacityUnits": 0, "WriteCapacityUnits": 0, "NumberOfDecreasesToday": 0],
            "DeletionProtectionEnabled": .bool(definition["DeletionProtectionEnabled"]?.boolValue ?? false),
        ]
        if let gsis = definition["GlobalSecondaryIndexes"]?.arrayValue, !gsis.isEmpty {
            table["GlobalSecondaryIndexes"] = .array(
                gsis.map { gsi in
                    var object = gsi.objectValue ?? [:]
                    object["IndexStatus"] = "ACTIVE"
                    object["IndexArn"] = .string("\(arn)/index/\(gsi["IndexName"]?.stringValue ?? "")")
                    object["ProvisionedThroughput"] = ["ReadCapacityUnits": 0, "WriteCapacityUnits": 0]
                    object["ItemCount"] = 0
                    object["IndexSizeBytes"] = 0
                    return .object(object)
                })
        }
        return .object(table)
    }
}

func itemSize(_ item: Item) -> Int {
    item.reduce(0) { $0 + $1.key.utf8.count + $1.value.size }
}
