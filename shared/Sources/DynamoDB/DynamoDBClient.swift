import AWSCore
import DynamoDBModel
import JSONCoding
import LambdaRuntime
import Platform

#if canImport(Glibc)
    import Glibc
#endif

/// A DynamoDB client over the JSON 1.0 protocol, signed with SigV4. Create one per process (at
/// init, outside the handler) and share it: its connections are pooled across invocations.
public final class DynamoDBClient: Sendable {
    public struct RetryPolicy: Sendable {
        public var maxAttempts = 8
        public var baseDelayMilliseconds = 25
        public var maxDelayMilliseconds = 2_000
        public init() {}
    }

    public var endpoint: String { service.endpoint }
    let service: AWSJSONService
    let retry: RetryPolicy

    public init(environment: AWSEnvironment, endpoint: String? = nil, retry: RetryPolicy = RetryPolicy()) throws {
        service = try AWSJSONService(
            endpoint: endpoint ?? environment.endpoint(service: "dynamodb"), signingName: "dynamodb",
            targetPrefix: "DynamoDB_20120810", jsonVersion: "1.0", credentials: environment.credentials,
            region: environment.region)
        self.retry = retry
    }

    /// A client configured from the process environment (Lambda's, or `AWS_PROFILE` locally).
    public convenience init() throws {
        try self.init(environment: AWSEnvironment.load())
    }

    public func shutdown() async { await service.shutdown() }

    /// Calls one operation. Throttling, 5xx and connection failures are retried with exponential
    /// backoff and full jitter, never past the current invocation's deadline. The call, with its
    /// attempts and throttles, goes into the invocation's telemetry (metrics and an X-Ray subsegment).
    public func call(_ operation: String, _ request: JSONValue) async throws -> JSONValue {
        let body = request.serialized()
        let context = LambdaContext.current
        let deadline = context.map { $0.deadlineMilliseconds - 50 }
        var record = InvocationTelemetry.AWSCall(
            service: "DynamoDB", operation: operation, resource: request["TableName"]?.stringValue,
            startMicroseconds: WallClock.nowMicroseconds(), endMicroseconds: 0, attempts: 0)
        defer {
            record.endMicroseconds = WallClock.nowMicroseconds()
            context?.telemetry.record(record)
        }
        while true {
            record.attempts += 1
            do {
                return try await send(operation, body, deadline: deadline)
            } catch let error as DynamoDBClientError {
                record.status = error.status
                record.errorType = error.type
                if case .throttled = error { record.throttles += 1 }
                guard error.retryable && record.attempts < retry.maxAttempts else { throw error }
                let ceiling = min(
                    retry.maxDelayMilliseconds, retry.baseDelayMilliseconds << min(record.attempts - 1, 20))
                let delay = Int64.random(in: 0...Int64(ceiling))
                if let deadline, WallClock.nowMilliseconds() + delay >= deadline { throw error }
                try await Task.sleep(for: .milliseconds(delay))
                record.status = 200
                record.errorType = nil
            }
        }
    }

    func send(_ operation: String, _ body: [UInt8], deadline: Int64?) async throws -> JSONValue {
        let remaining = deadline.map { max(1, $0 - WallClock.nowMilliseconds()) } ?? 10_000
        let response: TransportResponse
        do {
            response = try await service.send(operation, body: body, timeout: .milliseconds(min(remaining, 10_000)))
        } catch {
            throw DynamoDBClientError.transport("\(error)")
        }
        guard response.status == 200 else {
            throw DynamoDBClientError(
                status: response.status, body: response.body, errorTypeHeader: response.header("x-amzn-errortype"))
        }
        do { return try JSONValue.parse(response.body) } catch {
            throw DynamoDBClientError.service(type: "MalformedResponse", status: 200, message: "\(error)")
        }
    }
}

// MARK: - Operations

/// One page of a Query or Scan.
public struct Page: Sendable {
    public var items: [Item]
    public var count: Int
    public var lastEvaluatedKey: Item?
}

/// The parts of a request that use expressions, rendered with shared placeholders.
struct ExpressionRequest {
    let placeholders = Placeholders()
    var object: JSONObject

    init(_ object: JSONObject) { self.object = object }

    mutating func set(_ field: String, _ text: String?) {
        if let text, !text.isEmpty { object[field] = .string(text) }
    }

    var json: JSONValue {
        var result = object
        if !placeholders.names.isEmpty {
            result["ExpressionAttributeNames"] = .object(
                JSONObject(placeholders.names.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        if !placeholders.values.isEmpty {
            result["ExpressionAttributeValues"] = .object(
                JSONObject(placeholders.values.sorted { $0.key < $1.key }.map { ($0.key, $0.value.wire) }))
        }
        return .object(result)
    }
}

public enum ReturnValues: String, Sendable {
    case none = "NONE"
    case allOld = "ALL_OLD"
    case updatedOld = "UPDATED_OLD"
    case allNew = "ALL_NEW"
    case updatedNew = "UPDATED_NEW"
}

extension DynamoDBClient {
    public func getItem(table: String, key: Item, projection: [String]? = nil, consistentRead: Bool = false)
        async throws -> Item?
    {
        var request = ExpressionRequest([
            "TableName": .string(table), "Key": AttributeValue.wire(key), "ConsistentRead": .bool(consistentRead),
        ])
        request.set(
            "ProjectionExpression", projection.map { $0.map(request.placeholders.path).joined(separator: ", ") })
        let response = try await call("GetItem", request.json)
        return try response["Item"].map { try AttributeValue.item(wire: $0) }
    }

    /// Writes an item; with `returnOldOnConditionFailure`, a failed condition carries the old item.
    @discardableResult
    public func putItem(
        table: String, item: Item, condition: Condition? = nil, returnOld: Bool = false,
        returnOldOnConditionFailure: Bool = false
    ) async throws -> Item? {
        var request = ExpressionRequest(["TableName": .string(table), "Item": AttributeValue.wire(item)])
        request.set("ConditionExpression", condition?.render(request.placeholders))
        if returnOld { request.object["ReturnValues"] = "ALL_OLD" }
        if returnOldOnConditionFailure { request.object["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD" }
        return try await call("PutItem", request.json)["Attributes"].map { try AttributeValue.item(wire: $0) }
    }

    @discardableResult
    public func updateItem(
        table: String, key: Item, update: Update, condition: Condition? = nil, returnValues: ReturnValues = .allNew,
        returnOldOnConditionFailure: Bool = false
    ) async throws -> Item? {
        var request = ExpressionRequest([
            "TableName": .string(table), "Key": AttributeValue.wire(key),
            "ReturnValues": .string(returnValues.rawValue),
        ])
        request.set("UpdateExpression", update.render(request.placeholders))
        request.set("ConditionExpression", condition?.render(request.placeholders))
        if returnOldOnConditionFailure { request.object["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD" }
        return try await call("UpdateItem", request.json)["Attributes"].map { try AttributeValue.item(wire: $0) }
    }

    @discardableResult
    public func deleteItem(table: String, key: Item, condition: Condition? = nil, returnOld: Bool = false) async throws
        -> Item?
    {
        var request = ExpressionRequest(["TableName": .string(table), "Key": AttributeValue.wire(key)])
        request.set("ConditionExpression", condition?.render(request.placeholders))
        if returnOld { request.object["ReturnValues"] = "ALL_OLD" }
        return try await call("DeleteItem", request.json)["Attributes"].map { try AttributeValue.item(wire: $0) }
    }

    /// One page of a Query. `keyCondition` names the partition key (and optionally the sort key).
    public func query(
        table: String, index: String? = nil, keyCondition: Condition, filter: Condition? = nil,
        projection: [String]? = nil,
        limit: Int? = nil, startKey: Item? = nil, forward: Bool = true, countOnly: Bool = false
    ) async throws -> Page {
        var request = ExpressionRequest(["TableName": .string(table), "ScanIndexForward": .bool(forward)])
        if let index { request.object["IndexName"] = .string(index) }
        request.set("KeyConditionExpression", keyCondition.render(request.placeholders))
        return try await read(
            "Query", &request, filter: filter, projection: projection, limit: limit, startKey: startKey,
            countOnly: countOnly)
    }

    public func scan(
        table: String, index: String? = nil, filter: Condition? = nil, projection: [String]? = nil, limit: Int? = nil,
        startKey: Item? = nil, segment: (Int, of: Int)? = nil, countOnly: Bool = false
    ) async throws -> Page {
        var request = ExpressionRequest(["TableName": .string(table)])
        if let index { request.object["IndexName"] = .string(index) }
        if let segment {
            request.object["Segment"] = .number(String(segment.0))
            request.object["TotalSegments"] = .number(String(segment.of))
        }
        return try await read(
            "Scan", &request, filter: filter, projection: projection, limit: limit, startKey: startKey,
            countOnly: countOnly)
    }

    func read(
        _ operation: String, _ request: inout ExpressionRequest, filter: Condition?, projection: [String]?, limit: Int?,
        startKey: Item?, countOnly: Bool
    ) async throws -> Page {
        request.set("FilterExpression", filter?.render(request.placeholders))
        request.set(
            "ProjectionExpression", projection.map { $0.map(request.placeholders.path).joined(separator: ", ") })
        if let limit { request.object["Limit"] = .number(String(limit)) }
        if let startKey { request.object["ExclusiveStartKey"] = AttributeValue.wire(startKey) }
        if countOnly { request.object["Select"] = "COUNT" }
        let response = try await call(operation, request.json)
        return Page(
            items: try (response["Items"]?.arrayValue ?? []).map { try AttributeValue.item(wire: $0) },
            count: response["Count"].flatMap { Int($0.jsonString) } ?? 0,
            lastEvaluatedKey: try response["LastEvaluatedKey"].map { try AttributeValue.item(wire: $0) })
    }

    /// Every page, following `LastEvaluatedKey` until it is absent.
    public func queryAll(
        table: String, index: String? = nil, keyCondition: Condition, filter: Condition? = nil, pageLimit: Int? = nil,
        forward: Bool = true
    ) async throws -> [Item] {
        var items: [Item] = []
        var start: Item?
        repeat {
            let page = try await query(
                table: table, index: index, keyCondition: keyCondition, filter: filter, limit: pageLimit,
                startKey: start, forward: forward)
            items += page.items
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    public func scanAll(table: String, filter: Condition? = nil, pageLimit: Int? = nil) async throws -> [Item] {
        var items: [Item] = []
        var start: Item?
        repeat {
            let page = try await scan(table: table, filter: filter, limit: pageLimit, startKey: start)
            items += page.items
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    /// Gets any number of keys: chunks of 100, unprocessed keys retried with backoff.
    public func batchGet(table: String, keys: [Item]) async throws -> [Item] {
        var found: [Item] = []
        for chunk in stride(from: 0, to: keys.count, by: 100).map({ Array(keys[$0..<min($0 + 100, keys.count)]) }) {
            var pending: JSONValue = ["Keys": .array(chunk.map(AttributeValue.wire))]
            var attempt = 0
            while true {
                let response = try await call("BatchGetItem", ["RequestItems": .object([table: pending])])
                found += try (response["Responses"]?[table]?.arrayValue ?? []).map { try AttributeValue.item(wire: $0) }
                guard let unprocessed = response["UnprocessedKeys"]?[table],
                    unprocessed["Keys"]?.arrayValue?.isEmpty == false
                else { break }
                pending = unprocessed
                attempt += 1
                try await backoff(attempt)
            }
        }
        return found
    }

    /// Writes and deletes any number of items: chunks of 25, unprocessed items retried with backoff.
    public func batchWrite(table: String, puts: [Item] = [], deletes: [Item] = []) async throws {
        let requests: [JSONValue] =
            puts.map { ["PutRequest": ["Item": AttributeValue.wire($0)]] }
            + deletes.map { ["DeleteRequest": ["Key": AttributeValue.wire($0)]] }
        for start in stride(from: 0, to: requests.count, by: 25) {
            var pending: JSONValue = .array(Array(requests[start..<min(start + 25, requests.count)]))
            var attempt = 0
            while true {
                let response = try await call("BatchWriteItem", ["RequestItems": .object([table: pending])])
                guard let unprocessed = response["UnprocessedItems"]?[table], unprocessed.arrayValue?.isEmpty == false
                else { break }
                pending = unprocessed
                attempt += 1
                try await backoff(attempt)
            }
        }
    }

    func backoff(_ attempt: Int) async throws {
        guard attempt < retry.maxAttempts else {
            throw DynamoDBClientError.throttled(
                type: "UnprocessedItems", message: "items stayed unprocessed after \(attempt) attempts")
        }
        let ceiling = min(retry.maxDelayMilliseconds, retry.baseDelayMilliseconds << min(attempt, 20))
        try await Task.sleep(for: .milliseconds(Int64.random(in: 0...Int64(ceiling))))
    }

    /// One action of a write transaction.
    public enum TransactWrite: Sendable {
        case put(table: String, item: Item, condition: Condition? = nil)
        case update(table: String, key: Item, update: Update, condition: Condition? = nil)
        case delete(table: String, key: Item, condition: Condition? = nil)
        case conditionCheck(table: String, key: Item, condition: Condition)
    }

    /// All or nothing; a failed condition throws `.transactionCanceled` with one reason per action.
    public func transactWrite(
        _ actions: [TransactWrite], clientRequestToken: String? = nil, returnOldOnConditionFailure: Bool = false
    ) async throws {
        let items: [JSONValue] = actions.map { action in
            var request: ExpressionRequest
            let kind: String
            switch action {
            case .put(let table, let item, let condition):
                kind = "Put"
                request = ExpressionRequest(["TableName": .string(table), "Item": AttributeValue.wire(item)])
                request.set("ConditionExpression", condition?.render(request.placeholders))
            case .update(let table, let key, let update, let condition):
                kind = "Update"
                request = ExpressionRequest(["TableName": .string(table), "Key": AttributeValue.wire(key)])
                request.set("UpdateExpression", update.render(request.placeholders))
                request.set("ConditionExpression", condition?.render(request.placeholders))
            case .delete(let table, let key, let condition):
                kind = "Delete"
                request = ExpressionRequest(["TableName": .string(table), "Key": AttributeValue.wire(key)])
                request.set("ConditionExpression", condition?.render(request.placeholders))
            case .conditionCheck(let table, let key, let condition):
                kind = "ConditionCheck"
                request = ExpressionRequest(["TableName": .string(table), "Key": AttributeValue.wire(key)])
                request.set("ConditionExpression", condition.render(request.placeholders))
            }
            if returnOldOnConditionFailure { request.object["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD" }
            return .object([kind: request.json])
        }
        var request: JSONObject = ["TransactItems": .array(items)]
        if let clientRequestToken { request["ClientRequestToken"] = .string(clientRequestToken) }
        _ = try await call("TransactWriteItems", .object(request))
    }

    public func transactGet(_ gets: [(table: String, key: Item)]) async throws -> [Item?] {
        let response = try await call(
            "TransactGetItems",
            [
                "TransactItems": .array(
                    gets.map { ["Get": ["TableName": .string($0.table), "Key": AttributeValue.wire($0.key)]] })
            ])
        return try (response["Responses"]?.arrayValue ?? []).map {
            try $0["Item"].map { try AttributeValue.item(wire: $0) }
        }
    }

    public func describeTable(_ table: String) async throws -> JSONValue {
        try await call("DescribeTable", ["TableName": .string(table)])["Table"] ?? .null
    }

    /// Creates a table from a CreateTable request document (local set-up and tests).
    public func createTable(_ definition: JSONValue) async throws { _ = try await call("CreateTable", definition) }

    public func deleteTable(_ table: String) async throws {
        _ = try await call("DeleteTable", ["TableName": .string(table)])
    }
}
