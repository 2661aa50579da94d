import DynamoDBModel
import JSONCoding
import Platform

/// The DynamoDB data model on SQLite. Not thread-safe: `LocalDynamoDB` serialises calls.
final class Engine {
    let db: SQLiteDatabase
    var tables: [String: TableSchema] = [:]
    /// ClientRequestToken → (request fingerprint, time), for idempotent TransactWriteItems.
    var transactionTokens: [String: (JSONValue, Int64)] = [:]
    /// Indexes being created or deleted by UpdateTable: table → index → (status, until when).
    var transitions: [String: [String: (status: String, until: Int64)]] = [:]
    /// How long an index stays CREATING or DELETING (DynamoDB takes minutes; clients poll).
    var transitionMilliseconds: Int64 = 300
    var streamSequence: Int64 = 0
    var now: () -> Int64 = { WallClock.nowMilliseconds() }

    static let pageBytes = 1_048_576

    init(path: String) throws {
        db = try SQLiteDatabase(path: path)
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS ddb_tables (name TEXT PRIMARY KEY, definition TEXT NOT NULL, created INTEGER NOT NULL, ttl_attribute TEXT);
            CREATE TABLE IF NOT EXISTS ddb_items (tbl TEXT NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, item TEXT NOT NULL,
                size INTEGER NOT NULL, expires INTEGER, PRIMARY KEY (tbl, pk, sk)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS ddb_items_expires ON ddb_items(expires) WHERE expires IS NOT NULL;
            CREATE TABLE IF NOT EXISTS ddb_index_entries (tbl TEXT NOT NULL, idx TEXT NOT NULL, gpk BLOB NOT NULL, gsk BLOB NOT NULL,
                pk BLOB NOT NULL, sk BLOB NOT NULL, PRIMARY KEY (tbl, idx, gpk, gsk, pk, sk)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ddb_tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
            CREATE TABLE IF NOT EXISTS ddb_streams (arn TEXT PRIMARY KEY, tbl TEXT NOT NULL, label TEXT NOT NULL,
                view TEXT NOT NULL, enabled INTEGER NOT NULL, created INTEGER NOT NULL, key_schema TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS ddb_stream_records (stream TEXT NOT NULL, seq INTEGER NOT NULL, created INTEGER NOT NULL,
                record TEXT NOT NULL, PRIMARY KEY (stream, seq));
            """)
        try db.query("SELECT COALESCE(MAX(seq), 0) FROM ddb_stream_records") { row in
            streamSequence = row.integer(0)
            return false
        }
        try db.query("SELECT name, definition, created, ttl_attribute FROM ddb_tables") { row in
            let definition = try JSONValue.parse(row.text(1) ?? "{}")
            let schema = try TableSchema(definition: definition, created: row.integer(2), ttlAttribute: row.text(3))
            tables[schema.name] = schema
            return true
        }
    }

    var nowSeconds: Int64 { now() / 1000 }

    func table(_ request: JSONValue, _ field: String = "TableName") throws(DynamoDBError) -> TableSchema {
        guard let name = request[field]?.stringValue else {
            throw .validation(
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
            )
        }
        guard let schema = tables[name] else { throw .resourceNotFound() }
        return schema
    }

    static func decodeItem(_ text: String) -> Item {
        (try? AttributeValue.item(wire: try JSONValue.parse(text))) ?? [:]
    }

    /// Dispatches one operation by its `X-Amz-Target` name.
    func handle(operation: String, request: JSONValue) throws -> JSONValue {
        guard request.objectValue != nil else {
            throw DynamoDBError.serialization("Start of structure or map found where not expected")
        }
        try Parameters.check(request, operation: operation)
        switch operation {
        case "PutItem": return try putItem(request)
        case "GetItem": return try getItem(request)
        case "UpdateItem": return try updateItem(request)
        case "DeleteItem": return try deleteItem(request)
        case "Query": return try read(request, query: true)
        case "Scan": return try read(request, query: false)
        case "BatchWriteItem": return try batchWriteItem(request)
        case "BatchGetItem": return try batchGetItem(request)
        case "TransactWriteItems": return try transactWriteItems(request)
        case "TransactGetItems": return try transactGetItems(request)
        case "CreateTable": return try createTable(request)
        case "DescribeTable": return try describeTable(request)
        case "DeleteTable": return try deleteTable(request)
        case "ListTables": return try listTables(request)
        case "UpdateTimeToLive": return try updateTimeToLive(request)
        case "DescribeTimeToLive": return try describeTimeToLive(request)
        case "UpdateTable": return try updateTable(request)
        case "TagResource": return try tagResource(request)
        case "UntagResource": return try untagResource(request)
        case "ListTagsOfResource": return try listTagsOfResource(request)
        case "DescribeLimits":
            return [
                "AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000,
            ]
        case "DescribeEndpoints": return ["Endpoints": [["Address": "localhost", "CachePeriodInMinutes": 1440]]]
        default: throw DynamoDBError.unknownOperation()
        }
    }
}
