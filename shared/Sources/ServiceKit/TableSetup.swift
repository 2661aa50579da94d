import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import Platform

extension ServiceDeclaration.Table {
    /// The CreateTable request for this declaration (what Terraform creates in AWS).
    public func createTableRequest(name: String) -> JSONValue {
        var attributes: [String: String] = [partitionKey.name: partitionKey.type]
        if let sortKey { attributes[sortKey.name] = sortKey.type }
        var request: JSONObject = [
            "TableName": .string(name), "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": .array(Self.keySchema(partitionKey, sortKey)),
        ]
        if let indexes = globalSecondaryIndexes, !indexes.isEmpty {
            request["GlobalSecondaryIndexes"] = .array(
                indexes.map { index in
                    attributes[index.partitionKey.name] = index.partitionKey.type
                    if let s = index.sortKey { attributes[s.name] = s.type }
                    var projection: JSONObject = ["ProjectionType": .string(index.projection)]
                    if let extra = index.nonKeyAttributes {
                        projection["NonKeyAttributes"] = .array(extra.map(JSONValue.string))
                    }
                    return [
                        "IndexName": .string(index.name),
                        "KeySchema": .array(Self.keySchema(index.partitionKey, index.sortKey)),
                        "Projection": .object(projection),
                    ]
                })
        }
        if let locals = localSecondaryIndexes, !locals.isEmpty {
            request["LocalSecondaryIndexes"] = .array(
                locals.map { index in
                    attributes[index.sortKey.name] = index.sortKey.type
                    var projection: JSONObject = ["ProjectionType": .string(index.projection)]
                    if let extra = index.nonKeyAttributes {
                        projection["NonKeyAttributes"] = .array(extra.map(JSONValue.string))
                    }
                    return [
                        "IndexName": .string(index.name),
                        "KeySchema": .array(Self.keySchema(partitionKey, index.sortKey)),
                        "Projection": .object(projection),
                    ]
                })
        }
        if let stream {
            request["StreamSpecification"] = ["StreamEnabled": true, "StreamViewType": .string(stream)]
        }
        request["AttributeDefinitions"] = .array(
            attributes.sorted { $0.key < $1.key }.map {
                ["AttributeName": .string($0.key), "AttributeType": .string($0.value)]
            })
        return .object(request)
    }

    static func keySchema(_ partition: ServiceDeclaration.KeyAttribute, _ sort: ServiceDeclaration.KeyAttribute?)
        -> [JSONValue]
    {
        [["AttributeName": .string(partition.name), "KeyType": "HASH"]]
            + (sort.map { [["AttributeName": .string($0.name), "KeyType": "RANGE"]] } ?? [])
    }
}

extension ServiceDeclaration {
    /// The deployed name of a declared table: `TABLE_<NAME>` from the environment (Terraform sets
    /// it), else the declared name.
    public static func tableName(_ declared: String, environment: [String: String] = ProcessEnvironment.current())
        -> String
    {
        environment["TABLE_\(declared.uppercased().replacingDashes())"] ?? declared
    }

    /// Creates every declared table (local runs and tests), with TTL where declared.
    public func createTables(_ db: DynamoDBClient, names: (String) -> String = { $0 }) async throws {
        for (declared, table) in (tables ?? [:]).sorted(by: { $0.key < $1.key }) {
            let name = names(declared)
            do {
                try await db.createTable(table.createTableRequest(name: name))
            } catch DynamoDBClientError.service(let type, _, _) where type == "ResourceInUseException" {
                continue
            }
            if let ttl = table.ttlAttribute {
                _ = try await db.call(
                    "UpdateTimeToLive",
                    [
                        "TableName": .string(name),
                        "TimeToLiveSpecification": ["Enabled": true, "AttributeName": .string(ttl)],
                    ])
            }
        }
    }
}

extension String {
    func replacingDashes() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}
