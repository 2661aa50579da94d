import DynamoDB

/// What a service's handlers share: its DynamoDB client and table, cursors signed for it, and
/// idempotency records kept in the same table.
public struct ServiceStore: Sendable {
    public let db: DynamoDBClient
    public let table: String
    public let cursors: CursorCodec
    public let idempotency: IdempotencyStore

    public init(db: DynamoDBClient, table: String, cursorSecret: LazySecret) {
        self.db = db
        self.table = table
        cursors = CursorCodec(secret: cursorSecret)
        idempotency = IdempotencyStore(db: db, table: table)
    }
}
