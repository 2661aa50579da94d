import DynamoDBModel
import JSONCoding

/// A key schema. Tables and local secondary indexes have one partition and at most one sort
/// attribute; a global secondary index may have up to four of each ("multi-attribute keys":
/// Developer Guide, "Global secondary indexes: multi-attribute keys").
struct KeySchema {
    var partitions: [String]
    var sorts: [String]
    var partition: String { partitions[0] }
    var sort: String? { sorts.first }
    var names: [String] { partitions + sorts }

    init(partition: String, sort: String?) {
        partitions = [partition]
        sorts = sort.map { [$0] } ?? []
    }

    init(partitions: [String], sorts: [String]) {
        self.partitions = partitions
        self.sorts = sorts
    }
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
    /// A local secondary index: the table's partition key, read with the table's consistency.
    var local = false

    var projectsAll: Bool {
        if case .all = projection { return true }
        return false
    }
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
    static let maxGlobalIndexes = 20
    static let maxLocalIndexes = 5

    var localIndexes: [IndexSchema] { indexes.filter(\.local) }
    var globalIndexes: [IndexSchema] { indexes.filter { !$0.local } }

    init(definition: JSONValue, created: Int64, ttlAttribute: String?) throws(DynamoDBError) {
        guard let name = definition["TableName"]?.stringValue else {
            throw .validation(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        }
        try Self.checkName(name, field: "tableName")
        self.name = name
        self.created = created
        self.ttlAttribute = ttlAttribute
        self.definition = definition
        var types: [String: String] = [:]
        guard let definitions = definition["AttributeDefinitions"]?.arrayValue else {
            throw .validation(
                "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null"
            )
        }
        for attribute in definitions {
            guard let n = attribute["AttributeName"]?.stringValue, let t = attribute["AttributeType"]?.stringValue,
                ["S", "N", "B"].contains(t)
            else {
                throw .validation(
                    "1 validation error detected: Value at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
                )
            }
            // "Key attribute names: 1 to 255 bytes" (Service quotas: attributes).
            guard (1...255).contains(n.utf8.count) else {
                throw .validation(
                    "One or more parameter values were invalid: Key attribute names must be 1 to 255 bytes long: \(n)")
            }
            guard types[n] == nil else {
                throw .validation("Cannot have two attributes with the same name. Attribute name: \(n)")
            }
            types[n] = t
        }
        attributeTypes = types
        key = try Self.keySchema(definition["KeySchema"], types: types, maxPerRole: 1)
        var indexes: [IndexSchema] = []
        var names: Set<String> = []
        /// Local and global indexes share one namespace.
        func add(_ index: IndexSchema) throws(DynamoDBError) {
            guard names.insert(index.name).inserted else {
                throw .validation("One or more parameter values were invalid: Duplicate index name: \(index.name)")
            }
            indexes.append(index)
        }
        if let locals = definition["LocalSecondaryIndexes"]?.arrayValue {
            guard !locals.isEmpty else {
                throw .validation("One or more parameter values were invalid: List of LocalSecondaryIndexes is empty")
            }
            guard key.sort != nil else {
                throw .validation(
                    "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
                )
            }
            for spec in locals {
                var index = try Self.index(spec, types: types, maxPerRole: 1)
                index.local = true
                guard index.key.sort != nil else {
                    throw .validation(
                        "One or more parameter values were invalid: Index KeySchema does not have a range key for index: \(index.name)"
                    )
                }
                guard index.key.partition == key.partition else {
                    throw .validation(
                        "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: \(index.name). index hash key: \(index.key.partition), table hash key: \(key.partition)"
                    )
                }
                try add(index)
            }
            guard locals.count <= Self.maxLocalIndexes else {
                throw .validation(
                    "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"
                )
            }
        }
        if let globals = definition["GlobalSecondaryIndexes"]?.arrayValue {
            guard !globals.isEmpty else {
                throw .validation("One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty")
            }
            for spec in globals {
                let index = try Self.index(spec, types: types, maxPerRole: 4)
                if definition["BillingMode"]?.stringValue == "PAY_PER_REQUEST", spec["ProvisionedThroughput"] != nil {
                    throw .validation(
                        "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: \(index.name) when BillingMode is PAY_PER_REQUEST"
                    )
                }
                try add(index)
            }
            guard globals.count <= Self.maxGlobalIndexes else {
                throw .validation(
                    "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"
                )
            }
        }
        self.indexes = indexes
        let used = Set(key.names + indexes.flatMap(\.key.names))
        if Set(types.keys) != used {
            throw .validation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
            )
        }
        try Self.checkBilling(definition)
    }

    /// Table and index names: 3 to 255 of `[a-zA-Z0-9_.-]`.
    static func checkName(_ name: String, field: String) throws(DynamoDBError) {
        guard name.count >= 3, name.count <= 255 else {
            throw .validation(
                "1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must have length \(name.count < 3 ? "greater than or equal to 3" : "less than or equal to 255")"
            )
        }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
            throw .validation(
                "1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        }
    }

    static func checkBilling(_ definition: JSONValue) throws(DynamoDBError) {
        let throughput = definition["ProvisionedThroughput"]
        switch definition["BillingMode"]?.stringValue ?? "PROVISIONED" {
        case "PAY_PER_REQUEST":
            if throughput != nil {
                throw .validation(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
                )
            }
        case "PROVISIONED":
            guard let read = throughput?["ReadCapacityUnits"].flatMap({ Int($0.jsonString) }),
                let write = throughput?["WriteCapacityUnits"].flatMap({ Int($0.jsonString) })
            else {
                throw .validation(
                    "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
                )
            }
            guard read >= 1, write >= 1 else {
                throw .validation(
                    "1 validation error detected: Value '\(min(read, write))' at 'provisionedThroughput' failed to satisfy constraint: Member must have value greater than or equal to 1"
                )
            }
        case let mode:
            throw .validation(
                "1 validation error detected: Value '\(mode)' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
            )
        }
    }

    static func index(_ spec: JSONValue, types: [String: String], maxPerRole: Int) throws(DynamoDBError) -> IndexSchema
    {
        guard let indexName = spec["IndexName"]?.stringValue else {
            throw .validation(
                "1 validation error detected: Value null at 'indexName' failed to satisfy constraint: Member must not be null"
            )
        }
        try checkName(indexName, field: "indexName")
        guard let projectionSpec = spec["Projection"] else {
            throw .validation(
                "1 validation error detected: Value null at 'projection' failed to satisfy constraint: Member must not be null"
            )
        }
        let nonKey = projectionSpec["NonKeyAttributes"]?.arrayValue?.compactMap(\.stringValue)
        let projection: IndexSchema.Projection
        let type = projectionSpec["ProjectionType"]?.stringValue
        if let nonKey, type != "INCLUDE" {
            _ = nonKey
            throw .validation(
                "One or more parameter values were invalid: ProjectionType is \(type ?? "null"), but NonKeyAttributes is specified"
            )
        }
        switch type {
        case "ALL": projection = .all
        case "KEYS_ONLY": projection = .keysOnly
        case "INCLUDE":
            guard let nonKey, !nonKey.isEmpty else {
                throw .validation(
                    "One or more parameter values were invalid: NonKeyAttributes must be specified when ProjectionType is INCLUDE"
                )
            }
            projection = .include(nonKey)
        case nil: throw .validation("One or more parameter values were invalid: Unknown ProjectionType: null")
        case let other?:
            throw .validation("One or more parameter values were invalid: Unknown ProjectionType: \(other)")
        }
        return IndexSchema(
            name: indexName, key: try keySchema(spec["KeySchema"], types: types, maxPerRole: maxPerRole),
            projection: projection)
    }

    /// A KeySchema: HASH elements first, then RANGE elements, each defined in AttributeDefinitions.
    static func keySchema(_ value: JSONValue?, types: [String: String], maxPerRole: Int) throws(DynamoDBError)
        -> KeySchema
    {
        guard let elements = value?.arrayValue, !elements.isEmpty else {
            throw .validation(
                "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null"
            )
        }
        var partitions: [String] = []
        var sorts: [String] = []
        for element in elements {
            guard let n = element["AttributeName"]?.stringValue, types[n] != nil else {
                throw .validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [\(elements.compactMap { $0["AttributeName"]?.stringValue }.joined(separator: ", "))], AttributeDefinitions: [\(types.keys.sorted().joined(separator: ", "))]"
                )
            }
            guard !(partitions + sorts).contains(n) else {
                throw .validation(
                    elements.count == 2
                        ? "Both the Hash Key and the Range Key element in the KeySchema have the same name"
                        : "The KeySchema contains multiple key attributes with the same name")
            }
            switch element["KeyType"]?.stringValue {
            case "HASH":
                guard sorts.isEmpty else {
                    throw .validation(
                        "One or more parameter values were invalid: All HASH key attributes must precede RANGE key attributes in the KeySchema"
                    )
                }
                partitions.append(n)
            case "RANGE":
                guard !partitions.isEmpty else {
                    throw .validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
                }
                sorts.append(n)
            default:
                throw .validation(
                    "1 validation error detected: Value at 'keySchema.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]"
                )
            }
        }
        guard !partitions.isEmpty else {
            throw .validation("No Hash Key specified in schema.  All Dynamo DB tables must have exactly one hash key")
        }
        // A table's and a local index's key: one of each role. A global index's: up to four of each
        // (observed messages; the Developer Guide, "Multi-attribute key schema", gives the limit).
        for (role, count) in [("HASH", partitions.count), ("RANGE", sorts.count)] where count > maxPerRole {
            throw .validation(
                maxPerRole == 1
                    ? "Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key"
                    : "One or more parameter values were invalid: The KeySchema exceeds the maximum allowed number of \(role) key attributes"
            )
        }
        return KeySchema(partitions: partitions, sorts: sorts)
    }
}
