import DynamoDBModel
import JSONCoding

/// Storage keys: the bytes items and index entries are stored under, with DynamoDB's key rules.
extension TableSchema {
    var keyAttributes: Set<String> { Set(key.names) }

    /// The (partition, sort) storage keys of an item or key map, validating types.
    func storageKey(_ item: Item, requireExact: Bool) throws(DynamoDBError) -> (pk: [UInt8], sk: [UInt8]) {
        if requireExact, item.count != key.names.count || !key.names.allSatisfy({ item[$0] != nil }) {
            throw .validation("The provided key element does not match the schema")
        }
        let pk = try keyBytes(item, key.partition, role: "key")
        let sk = try key.sort.map { (name) throws(DynamoDBError) in try keyBytes(item, name, role: "key") } ?? []
        try Self.checkKeySizes(partition: item[key.partition], sort: key.sort.flatMap { item[$0] })
        return (pk, sk)
    }

    /// "Partition key: 1 to 2048 bytes; sort key: 1 to 1024 bytes" (Service quotas: attributes),
    /// for the table's key and every index key alike. Messages as DynamoDB writes them.
    static func checkKeySizes(partition: AttributeValue?, sort: AttributeValue?) throws(DynamoDBError) {
        if let partition, keySize(partition) > 2048 {
            throw .validation(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
            )
        }
        if let sort, keySize(sort) > 1024 {
            throw .validation(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
            )
        }
    }

    static func keySize(_ value: AttributeValue) -> Int {
        switch value {
        case .s(let s): s.utf8.count
        case .b(let b): b.count
        default: 0  // a number key is at most 38 digits: about 21 bytes
        }
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
        guard index.key.names.allSatisfy({ item[$0] != nil }) else { return nil }
        let partitions = index.key.partitions.map { item[$0]! }
        let sorts = index.key.sorts.map { item[$0]! }
        for value in partitions { try Self.checkKeySizes(partition: value, sort: nil) }
        for value in sorts { try Self.checkKeySizes(partition: nil, sort: value) }
        return (
            try Self.compose(
                zip(index.key.partitions, partitions).map { (n, v) throws(DynamoDBError) in try Self.encode(v, name: n)
                }),
            try Self.compose(
                zip(index.key.sorts, sorts).map { (n, v) throws(DynamoDBError) in try Self.encode(v, name: n) })
        )
    }

    /// One storage key from several attributes' encodings, ordered component by component: each
    /// part is escaped (0x00 → 0x00 0xFF) and terminated (0x00 0x00). A single part stays as is.
    static func compose(_ parts: [[UInt8]]) -> [UInt8] {
        if parts.count <= 1 { return parts.first ?? [] }
        return parts.flatMap(component)
    }

    /// One escaped, terminated part of a composed key.
    static func component(_ part: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for byte in part { bytes += byte == 0 ? [0, 0xFF] : [byte] }
        return bytes + [0, 0]
    }
}
