import DynamoDBModel
import JSONCoding

/// What DescribeTable shows, what an index projects, when an item expires.
extension TableSchema {
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
        let mode = definition["BillingMode"]?.stringValue ?? "PROVISIONED"
        let throughput = definition["ProvisionedThroughput"]
        var table: JSONObject = [
            "TableName": .string(name), "TableArn": .string(arn), "TableId": .string("local-\(name)"),
            "TableStatus": "ACTIVE",
            "KeySchema": definition["KeySchema"] ?? [],
            "AttributeDefinitions": definition["AttributeDefinitions"] ?? [],
            "CreationDateTime": .number(String(created)), "ItemCount": .number(String(itemCount)),
            "TableSizeBytes": .number(String(sizeBytes)),
            "BillingModeSummary": ["BillingMode": .string(mode)],
            "ProvisionedThroughput": [
                "ReadCapacityUnits": throughput?["ReadCapacityUnits"] ?? 0,
                "WriteCapacityUnits": throughput?["WriteCapacityUnits"] ?? 0, "NumberOfDecreasesToday": 0,
            ],
            "DeletionProtectionEnabled": .bool(definition["DeletionProtectionEnabled"]?.boolValue ?? false),
        ]
        if let tableClass = definition["TableClass"] { table["TableClassSummary"] = ["TableClass": tableClass] }
        if definition["SSESpecification"]?["Enabled"]?.boolValue == true {
            table["SSEDescription"] = [
                "Status": "ENABLED", "SSEType": definition["SSESpecification"]?["SSEType"] ?? "KMS",
                "KMSMasterKeyArn": definition["SSESpecification"]?["KMSMasterKeyId"]
                    ?? "arn:aws:kms:local:000000000000:key/local",
            ]
        }
        if let stream = definition["StreamSpecification"], stream["StreamEnabled"]?.boolValue == true,
            let label = definition["LatestStreamLabel"]?.stringValue
        {
            table["StreamSpecification"] = stream
            table["LatestStreamLabel"] = .string(label)
            table["LatestStreamArn"] = .string("\(arn)/stream/\(label)")
        }
        for (field, list) in [
            ("GlobalSecondaryIndexes", definition["GlobalSecondaryIndexes"]),
            ("LocalSecondaryIndexes", definition["LocalSecondaryIndexes"]),
        ] {
            guard let indexes = list?.arrayValue, !indexes.isEmpty else { continue }
            table[field] = .array(
                indexes.map { index in
                    var object = index.objectValue ?? [:]
                    if field == "GlobalSecondaryIndexes" {
                        object["IndexStatus"] = "ACTIVE"
                        object["ProvisionedThroughput"] = [
                            "ReadCapacityUnits": index["ProvisionedThroughput"]?["ReadCapacityUnits"] ?? 0,
                            "WriteCapacityUnits": index["ProvisionedThroughput"]?["WriteCapacityUnits"] ?? 0,
                        ]
                    }
                    object["IndexArn"] = .string("\(arn)/index/\(index["IndexName"]?.stringValue ?? "")")
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
