import DynamoDBModel
import JSONCoding
import Platform

/// A table's StreamSpecification (API Reference, StreamSpecification): enabled, with a view type.
struct StreamSettings {
    static let views: Set<String> = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
    var enabled: Bool
    var view: String

    init?(_ value: JSONValue?) throws(DynamoDBError) {
        guard let value else { return nil }
        guard let enabled = value["StreamEnabled"]?.boolValue else {
            throw .validation(
                "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null"
            )
        }
        let view = value["StreamViewType"]?.stringValue
        if enabled {
            guard let view, Self.views.contains(view) else {
                throw .validation(
                    "1 validation error detected: Value '\(view ?? "null")' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
                )
            }
        } else if view != nil {
            throw .validation(
                "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false"
            )
        }
        self.enabled = enabled
        self.view = view ?? ""
    }
}

/// DynamoDB Streams on the local engine: one shard per stream, a record per item change (none
/// for a write that changes nothing), images by view type, records kept 24 hours, TTL deletions
/// marked as the service's (Developer Guide, "Change data capture for DynamoDB Streams").
extension Engine {
    static let streamRetentionSeconds: Int64 = 86_400
    static let iteratorLifetimeMilliseconds: Int64 = 15 * 60 * 1000

    /// Enables a new stream on a table: a new ARN and label; returns the updated definition.
    func startStream(table: TableSchema, view: String, definition: JSONValue) throws -> JSONValue {
        let label = WallClock.iso8601(milliseconds: now()).replacingZ()
        let arn = "\(Self.tableArn(table.name))/stream/\(label)"
        try db.run(
            "INSERT OR REPLACE INTO ddb_streams (arn, tbl, label, view, enabled, created, key_schema) VALUES (?, ?, ?, ?, 1, ?, ?)",
            [
                .text(arn), .text(table.name), .text(label), .text(view), .integer(nowSeconds),
                .text((table.definition["KeySchema"] ?? []).jsonString),
            ])
        guard case .object(var object) = definition else { return definition }
        object["StreamSpecification"] = ["StreamEnabled": true, "StreamViewType": .string(view)]
        object["LatestStreamLabel"] = .string(label)
        return .object(object)
    }

    func enabledStream(_ table: String) throws -> (arn: String, view: String)? {
        var found: (String, String)?
        try db.query("SELECT arn, view FROM ddb_streams WHERE tbl = ? AND enabled = 1", [.text(table)]) { row in
            found = (row.text(0) ?? "", row.text(1) ?? "")
            return false
        }
        return found
    }

    /// Appends the stream record of one committed write, if the table has a stream.
    func recordChange(_ write: PlannedWrite, byService: Bool = false) throws {
        // The table's definition says whether it streams: no query on the write path otherwise.
        guard write.old != write.new,
            write.table.definition["StreamSpecification"]?["StreamEnabled"]?.boolValue == true,
            let (arn, view) = try enabledStream(write.table.name)
        else { return }
        streamSequence += 1
        let eventName = write.old == nil ? "INSERT" : write.new == nil ? "REMOVE" : "MODIFY"
        let source = write.new ?? write.old ?? [:]
        let keys = source.filter { write.table.key.names.contains($0.key) }
        var change: JSONObject = [
            "ApproximateCreationDateTime": .number(String(nowSeconds)), "Keys": AttributeValue.wire(keys),
            "SequenceNumber": .string(Self.sequenceNumber(streamSequence)), "StreamViewType": .string(view),
        ]
        if ["NEW_IMAGE", "NEW_AND_OLD_IMAGES"].contains(view), let new = write.new {
            change["NewImage"] = AttributeValue.wire(new)
        }
        if ["OLD_IMAGE", "NEW_AND_OLD_IMAGES"].contains(view), let old = write.old {
            change["OldImage"] = AttributeValue.wire(old)
        }
        let imageBytes = [change["NewImage"], change["OldImage"]].compactMap { $0 }.map { $0.serialized().count }
            .reduce(0, +)
        change["SizeBytes"] = .number(String(keys.reduce(0) { $0 + $1.key.utf8.count + $1.value.size } + imageBytes))
        var record: JSONObject = [
            "eventID": .string(String(streamSequence, radix: 16)), "eventName": .string(eventName),
            "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "local", "dynamodb": .object(change),
        ]
        if byService { record["userIdentity"] = ["type": "Service", "principalId": "dynamodb.amazonaws.com"] }
        try db.run(
            "INSERT INTO ddb_stream_records (stream, seq, created, record) VALUES (?, ?, ?, ?)",
            [.text(arn), .integer(streamSequence), .integer(nowSeconds), .text(JSONValue.object(record).jsonString)])
        try db.run(
            "DELETE FROM ddb_stream_records WHERE created < ?", [.integer(nowSeconds - Self.streamRetentionSeconds)])
    }

    static func sequenceNumber(_ n: Int64) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 21 - digits.count)) + digits
    }

    static func shardID(_ arn: String) -> String {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in arn.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return "shardId-00000001-\(String(hash, radix: 16))"
    }

    // MARK: The Streams API (DynamoDBStreams_20120810)

    func handleStreams(operation: String, request: JSONValue) throws -> JSONValue {
        switch operation {
        case "ListStreams": return try listStreams(request)
        case "DescribeStream": return try describeStream(request)
        case "GetShardIterator": return try getShardIterator(request)
        case "GetRecords": return try getRecords(request)
        default: throw DynamoDBError.unknownOperation()
        }
    }

    struct StreamRow {
        var arn: String
        var table: String
        var label: String
        var view: String
        var enabled: Bool
        var created: Int64
        var keySchema: String
    }

    func streams(table: String? = nil, arn: String? = nil) throws -> [StreamRow] {
        var rows: [StreamRow] = []
        try db.query(
            "SELECT arn, tbl, label, view, enabled, created, key_schema FROM ddb_streams WHERE (? IS NULL OR tbl = ?) AND (? IS NULL OR arn = ?) AND created >= ? ORDER BY arn",
            [
                table.map { .text($0) } ?? .null, table.map { .text($0) } ?? .null, arn.map { .text($0) } ?? .null,
                arn.map { .text($0) } ?? .null, .integer(nowSeconds - Self.streamRetentionSeconds),
            ]
        ) { row in
            rows.append(
                StreamRow(
                    arn: row.text(0) ?? "", table: row.text(1) ?? "", label: row.text(2) ?? "", view: row.text(3) ?? "",
                    enabled: row.integer(4) == 1, created: row.integer(5), keySchema: row.text(6) ?? "[]"))
            return true
        }
        return rows
    }

    func stream(_ request: JSONValue) throws -> StreamRow {
        guard let arn = request["StreamArn"]?.stringValue else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null"
            )
        }
        guard let stream = try streams(arn: arn).first else {
            throw DynamoDBError.resourceNotFound("Requested resource not found: Stream: \(arn) not found")
        }
        return stream
    }

    func listStreams(_ request: JSONValue) throws -> JSONValue {
        let limit = request["Limit"].flatMap { Int($0.jsonString) } ?? 100
        guard (1...100).contains(limit) else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100"
            )
        }
        var all = try streams(table: request["TableName"]?.stringValue)
        if let start = request["ExclusiveStartStreamArn"]?.stringValue { all = all.filter { $0.arn > start } }
        var response: JSONObject = [
            "Streams": .array(
                all.prefix(limit).map {
                    ["StreamArn": .string($0.arn), "TableName": .string($0.table), "StreamLabel": .string($0.label)]
                })
        ]
        if all.count > limit { response["LastEvaluatedStreamArn"] = .string(all[limit - 1].arn) }
        return .object(response)
    }

    func sequenceRange(_ arn: String) throws -> (first: Int64, last: Int64)? {
        var range: (Int64, Int64)?
        try db.query(
            "SELECT MIN(seq), MAX(seq), COUNT(*) FROM ddb_stream_records WHERE stream = ? AND created >= ?",
            [.text(arn), .integer(nowSeconds - Self.streamRetentionSeconds)]
        ) { row in
            if row.integer(2) > 0 { range = (row.integer(0), row.integer(1)) }
            return false
        }
        return range
    }

    func describeStream(_ request: JSONValue) throws -> JSONValue {
        let stream = try stream(request)
        var shard: JSONObject = ["ShardId": .string(Self.shardID(stream.arn))]
        var range: JSONObject = [:]
        if let (first, last) = try sequenceRange(stream.arn) {
            range["StartingSequenceNumber"] = .string(Self.sequenceNumber(first))
            if !stream.enabled { range["EndingSequenceNumber"] = .string(Self.sequenceNumber(last)) }
        } else {
            range["StartingSequenceNumber"] = .string(Self.sequenceNumber(streamSequence + 1))
        }
        shard["SequenceNumberRange"] = .object(range)
        // Shards are listed after ExclusiveStartShardId ("The shard ID of the first item that this
        // operation will evaluate", API_streams_DescribeStream): after the only shard, none.
        let listed: [JSONValue] =
            request["ExclusiveStartShardId"]?.stringValue == Self.shardID(stream.arn) ? [] : [.object(shard)]
        return [
            "StreamDescription": [
                "StreamArn": .string(stream.arn), "StreamLabel": .string(stream.label),
                "StreamStatus": .string(stream.enabled ? "ENABLED" : "DISABLED"),
                "StreamViewType": .string(stream.view),
                "CreationRequestDateTime": .number(String(stream.created)), "TableName": .string(stream.table),
                "KeySchema": (try? JSONValue.parse(Array(stream.keySchema.utf8))) ?? [], "Shards": .array(listed),
            ]
        ]
    }

    /// Iterators name a stream and the last sequence number before the next record; they expire
    /// after 15 minutes.
    func iterator(stream: String, after: Int64) -> String {
        Base64.encodeURL(Array("\(now())|\(after)|\(stream)".utf8))
    }

    func getShardIterator(_ request: JSONValue) throws -> JSONValue {
        let stream = try stream(request)
        guard request["ShardId"]?.stringValue == Self.shardID(stream.arn) else {
            throw DynamoDBError.resourceNotFound("Requested resource not found: Shard does not exist")
        }
        let sequence = request["SequenceNumber"]?.stringValue.flatMap { Int64($0) }
        let after: Int64
        switch request["ShardIteratorType"]?.stringValue {
        case "TRIM_HORIZON": after = ((try sequenceRange(stream.arn))?.first ?? streamSequence + 1) - 1
        case "LATEST": after = streamSequence
        case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
            guard let sequence else {
                throw DynamoDBError.validation(
                    "Must specify a sequence number for iterator type AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER")
            }
            after = request["ShardIteratorType"]?.stringValue == "AT_SEQUENCE_NUMBER" ? sequence - 1 : sequence
        case let other:
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(other ?? "null")' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        }
        return ["ShardIterator": .string(iterator(stream: stream.arn, after: after))]
    }

    func getRecords(_ request: JSONValue) throws -> JSONValue {
        guard let text = request["ShardIterator"]?.stringValue, let bytes = Base64.decode(Substring(text)) else {
            throw DynamoDBError.validation("Invalid ShardIterator")
        }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "|", maxSplits: 2).map(String.init)
        guard parts.count == 3, let issued = Int64(parts[0]), let after = Int64(parts[1]) else {
            throw DynamoDBError.validation("Invalid ShardIterator")
        }
        guard now() - issued <= Self.iteratorLifetimeMilliseconds else {
            var error = DynamoDBError(
                status: 400, type: DynamoDBError.dynamo + "ExpiredIteratorException",
                message:
                    "Iterator expired. The iterator was created at time \(issued) while right now it is \(now()) ms")
            error.extra = [:]
            throw error
        }
        let limit = request["Limit"].flatMap { Int($0.jsonString) } ?? 1000
        guard (1...1000).contains(limit) else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000"
            )
        }
        var records: [JSONValue] = []
        var last = after
        try db.query(
            "SELECT seq, record FROM ddb_stream_records WHERE stream = ? AND seq > ? AND created >= ? ORDER BY seq LIMIT ?",
            [
                .text(parts[2]), .integer(after), .integer(nowSeconds - Self.streamRetentionSeconds),
                .integer(Int64(limit)),
            ]
        ) { row in
            last = row.integer(0)
            if let record = try? JSONValue.parse(row.text(1) ?? "{}") { records.append(record) }
            return true
        }
        var response: JSONObject = ["Records": .array(records)]
        let enabled = try streams(arn: parts[2]).first?.enabled ?? false
        // A disabled stream's shard closes once read to its end.
        if enabled || !records.isEmpty {
            response["NextShardIterator"] = .string(iterator(stream: parts[2], after: last))
        }
        return .object(response)
    }
}

extension String {
    /// Stream labels are ISO 8601 without the zone letter, e.g. 2026-12-01T19:00:00.123.
    fileprivate func replacingZ() -> String { hasSuffix("Z") ? String(dropLast()) : self }
}
