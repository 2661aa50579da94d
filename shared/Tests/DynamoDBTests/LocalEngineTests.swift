import DynamoDB
import DynamoDBModel
import Foundation
import HTTPAPI
import JSONCoding
import LocalDynamoDB
import ServiceKit
import Testing

/// The local DynamoDB's expression language, limits and error contract, called directly.
@Suite struct LocalEngineTests {
    let db: LocalDynamoDB

    init() async throws {
        db = try LocalDynamoDB(path: ":memory:")
        #expect(await db.handle(operation: "CreateTable", request: tableDefinition("items")).status == 200)
    }

    @discardableResult
    func call(
        _ operation: String, _ request: JSONValue, expect status: Int = 200,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> JSONValue {
        let (actual, body) = await db.handle(operation: operation, request: request)
        #expect(actual == status, "\(operation): \(body.jsonString)", sourceLocation: sourceLocation)
        return body
    }

    func errorType(_ body: JSONValue) -> String? { body["__type"]?.stringValue }

    func put(_ item: JSONValue) async { await call("PutItem", ["TableName": "items", "Item": item]) }

    func update(_ expression: String, values: JSONValue? = nil, names: JSONValue? = nil, expect status: Int = 200) async
        -> JSONValue
    {
        var request: JSONObject = [
            "TableName": "items", "Key": ["pk": ["S": "a"], "sk": ["N": "1"]], "UpdateExpression": .string(expression),
            "ReturnValues": "ALL_NEW",
        ]
        if let values { request["ExpressionAttributeValues"] = values }
        if let names { request["ExpressionAttributeNames"] = names }
        return await call("UpdateItem", .object(request), expect: status)
    }

    @Test func conditionFunctionsAndOperators() async {
        await put([
            "pk": ["S": "a"], "sk": ["N": "1"], "name": ["S": "Ada Lovelace"], "age": ["N": "36"],
            "tags": ["SS": ["x", "y"]],
            "things": ["L": [["S": "p"], ["N": "2"]]], "doc": ["M": ["deep": ["M": ["n": ["N": "5"]]]]],
            "bin": ["B": "AAEC"],
        ])
        // Conditions read the stored item; each passing put stores the same attributes again.
        let checks: [(String, JSONValue?, Bool)] = [
            ("attribute_exists(age)", nil, true), ("attribute_not_exists(nope)", nil, true),
            ("age BETWEEN :lo AND :hi", [":lo": ["N": "30"], ":hi": ["N": "40"]], true),
            ("age IN (:a, :b)", [":a": ["N": "1"], ":b": ["N": "36.0"]], true),
            ("begins_with(#n, :p)", nil, true),
            ("contains(tags, :t)", [":t": ["S": "y"]], true), ("contains(#n, :s)", [":s": ["S": "Love"]], true),
            ("contains(things, :v)", [":v": ["N": "2"]], true),
            ("size(#n) = :len", [":len": ["N": "12"]], true), ("size(tags) > :one", [":one": ["N": "1"]], true),
            ("attribute_type(age, :t)", [":t": ["S": "N"]], true),
            ("attribute_type(age, :t)", [":t": ["S": "S"]], false),
            ("doc.deep.n = :five", [":five": ["N": "5"]], true), ("things[1] = :two", [":two": ["N": "2"]], true),
            ("things[5] = :two", [":two": ["N": "2"]], false),
            ("NOT (age < :a) AND (age > :b OR attribute_exists(nope))", [":a": ["N": "10"], ":b": ["N": "20"]], true),
            ("age <> :x", [":x": ["S": "36"]], true), ("absent <> :x", [":x": ["S": "1"]], true),
            ("age > :s", [":s": ["S": "1"]], false),
        ]
        for (expression, values, expected) in checks {
            var request: JSONObject = [
                "TableName": "items",
                "Item": [
                    "pk": ["S": "a"], "sk": ["N": "1"], "name": ["S": "Ada Lovelace"], "age": ["N": "36"],
                    "tags": ["SS": ["x", "y"]], "things": ["L": [["S": "p"], ["N": "2"]]],
                    "doc": ["M": ["deep": ["M": ["n": ["N": "5"]]]]],
                ],
                "ConditionExpression": .string(expression),
            ]
            var valueObject = values?.objectValue ?? [:]
            if expression.contains("#n") { request["ExpressionAttributeNames"] = ["#n": "name"] }
            if expression.contains(":p") { valueObject[":p"] = ["S": "Ada"] }
            if !valueObject.isEmpty { request["ExpressionAttributeValues"] = .object(valueObject) }
            let (status, body) = await db.handle(operation: "PutItem", request: .object(request))
            #expect((status == 200) == expected, "\(expression) → \(status) \(body.jsonString)")
        }
    }

    @Test func updateExpressionClauses() async {
        await put([
            "pk": ["S": "a"], "sk": ["N": "1"], "n": ["N": "10"],
            "things": ["L": [["S": "a"], ["S": "b"], ["S": "c"]]],
            "nums": ["NS": ["1", "2", "3"]], "doc": ["M": ["x": ["N": "1"]]],
        ])
        let result = await update(
            "SET n = n - :one, doc.y = :big, things[1] = :z, fresh = if_not_exists(fresh, :zero) + :one REMOVE things[0], doc.x ADD hits :one, nums :more DELETE gone :gone",
            values: [
                ":one": ["N": "1"], ":big": ["N": "99999999999999999999999999999999999999"], ":z": ["S": "Z"],
                ":zero": ["N": "0"],
                ":more": ["NS": ["4"]], ":gone": ["SS": ["q"]],
            ])
        let attributes = result["Attributes"]
        #expect(attributes?["n"] == ["N": "9"])
        #expect(attributes?["fresh"] == ["N": "1"])
        #expect(attributes?["hits"] == ["N": "1"])
        #expect(attributes?["doc"] == ["M": ["y": ["N": "99999999999999999999999999999999999999"]]])
        #expect(attributes?["things"] == ["L": [["S": "Z"], ["S": "c"]]], "SET reads the old item; REMOVE then shifts")
        #expect(Set(attributes?["nums"]?["NS"]?.arrayValue ?? []) == ["1", "2", "3", "4"])
        // Exact decimal arithmetic, not Double.
        let money = await update("SET price = :a + :b", values: [":a": ["N": "0.1"], ":b": ["N": "0.2"]])
        #expect(money["Attributes"]?["price"] == ["N": "0.3"])
    }

    @Test func updateErrors() async {
        await put(["pk": ["S": "a"], "sk": ["N": "1"], "s": ["S": "text"]])
        let cases: [(String, JSONValue?, String)] = [
            ("SET a = :v, a.b = :v", [":v": ["N": "1"]], "overlap"),
            ("SET pk = :v", [":v": ["S": "x"]], "part of the key"),
            ("SET s = s + :v", [":v": ["N": "1"]], "incorrect data type"),
            ("SET a = :v", [":v": ["N": "1"], ":unused": ["N": "2"]], "unused"),
            ("SET a = :missing", nil, "not defined"),
            ("SET a = ", nil, "Syntax error"),
            ("SET a = :v SET b = :v", [":v": ["N": "1"]], "only be used once"),
            ("SET nope.such.place = :v", [":v": ["N": "1"]], "document path"),
        ]
        for (expression, values, message) in cases {
            let body = await update(expression, values: values, expect: 400)
            #expect(errorType(body) == "com.amazon.coral.validate#ValidationException", "\(expression)")
            #expect(
                body["message"]?.stringValue?.contains(message) == true,
                "\(expression): \(body["message"]?.stringValue ?? "")")
        }
    }

    @Test func reservedWordsNeedPlaceholders() async {
        await put(["pk": ["S": "a"], "sk": ["N": "1"], "status": ["S": "open"]])
        let projection = await call(
            "GetItem",
            ["TableName": "items", "Key": ["pk": ["S": "a"], "sk": ["N": "1"]], "ProjectionExpression": "status"],
            expect: 400)
        #expect(
            projection["message"]
                == "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status")
        let update = await update("SET doc.list = :v", values: [":v": ["N": "1"]], expect: 400)
        #expect(update["message"]?.stringValue?.contains("reserved keyword: list") == true)
        let placeholder = await call(
            "GetItem",
            [
                "TableName": "items", "Key": ["pk": ["S": "a"], "sk": ["N": "1"]], "ProjectionExpression": "#s",
                "ExpressionAttributeNames": ["#s": "status"],
            ])
        #expect(placeholder["Item"] == ["status": ["S": "open"]])
    }

    @Test func limitsAndErrorTypes() async {
        let big = String(repeating: "x", count: 409_600)
        let tooBig = await call(
            "PutItem",
            ["TableName": "items", "Item": ["pk": ["S": "a"], "sk": ["N": "1"], "blob": ["S": .string(big)]]],
            expect: 400)
        #expect(tooBig["message"] == "Item size has exceeded the maximum allowed size")
        let writes = (0..<26).map { i -> JSONValue in
            ["PutRequest": ["Item": ["pk": ["S": "b"], "sk": ["N": .string(String(i))]]]]
        }
        let batch = await call("BatchWriteItem", ["RequestItems": ["items": .array(writes)]], expect: 400)
        #expect(batch["message"]?.stringValue?.contains("less than or equal to 25") == true)
        let actions = (0..<101).map { i -> JSONValue in
            ["Put": ["TableName": "items", "Item": ["pk": ["S": "t"], "sk": ["N": .string(String(i))]]]]
        }
        await call("TransactWriteItems", ["TransactItems": .array(actions)], expect: 400)
        let duplicate = await call(
            "TransactWriteItems",
            [
                "TransactItems": [
                    ["Put": ["TableName": "items", "Item": ["pk": ["S": "d"], "sk": ["N": "1"]]]],
                    ["Delete": ["TableName": "items", "Key": ["pk": ["S": "d"], "sk": ["N": "1"]]]],
                ]
            ], expect: 400)
        #expect(duplicate["message"]?.stringValue?.contains("multiple operations on one item") == true)
        let missing = await call("GetItem", ["TableName": "nope", "Key": ["pk": ["S": "a"]]], expect: 400)
        #expect(errorType(missing) == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
        let wrongKey = await call("GetItem", ["TableName": "items", "Key": ["pk": ["S": "a"]]], expect: 400)
        #expect(wrongKey["message"] == "The provided key element does not match the schema")
        let emptyKey = await call(
            "PutItem", ["TableName": "items", "Item": ["pk": ["S": ""], "sk": ["N": "1"]]], expect: 400)
        #expect(emptyKey["message"]?.stringValue?.contains("empty string") == true)
        let badNumber = await call(
            "PutItem", ["TableName": "items", "Item": ["pk": ["S": "a"], "sk": ["N": "1"], "n": ["N": "1e200"]]],
            expect: 400)
        #expect(badNumber["message"]?.stringValue?.contains("overflow") == true)
        await call("CreateTable", tableDefinition("items"), expect: 400)
        let unknown = await call("Frobnicate", [:], expect: 400)
        #expect(errorType(unknown) == "com.amazon.coral.service#UnknownOperationException")
    }

    @Test func pagesStopAtOneMegabyte() async {
        let chunk = String(repeating: "y", count: 100_000)
        for i in 0..<25 {
            await put(["pk": ["S": "big"], "sk": ["N": .string(String(i))], "data": ["S": .string(chunk)]])
        }
        let page = await call(
            "Query",
            [
                "TableName": "items", "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": [":p": ["S": "big"]],
            ])
        let count = Int(page["Count"]?.jsonString ?? "") ?? 0
        #expect(count > 0 && count < 25, "a page holds at most 1 MB (got \(count) items of 100 KB)")
        #expect(page["LastEvaluatedKey"] != nil)
    }

    /// "Items that have expired and not been deleted will still show up in reads, queries, and
    /// scans" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html)
    /// and in conditions ("they'll continue to show in read and write operations until they are
    /// deleted by the background process", developerguide/ttl-expired-items.html): a reader that
    /// must not see them filters them itself. The sweeper deletes them (DynamoDB: within days).
    @Test func expiredItemsShowUntilSweptAsInDynamoDB() async throws {
        await call(
            "UpdateTimeToLive",
            ["TableName": "items", "TimeToLiveSpecification": ["Enabled": true, "AttributeName": "expiresAt"]])
        let past = String(Int(Date().timeIntervalSince1970) - 10)
        let future = String(Int(Date().timeIntervalSince1970) + 3600)
        await put(["pk": ["S": "ttl"], "sk": ["N": "1"], "expiresAt": ["N": .string(past)]])
        await put(["pk": ["S": "ttl"], "sk": ["N": "2"], "expiresAt": ["N": .string(future)]])
        await put(["pk": ["S": "ttl"], "sk": ["N": "3"]])
        let get = await call("GetItem", ["TableName": "items", "Key": ["pk": ["S": "ttl"], "sk": ["N": "1"]]])
        #expect(get["Item"]?["expiresAt"]?["N"] == .string(past))
        let query: JSONValue = [
            "TableName": "items", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": [":p": ["S": "ttl"]],
        ]
        #expect(await call("Query", query)["Count"] == 3)
        // An expired item still satisfies attribute_exists: it is there until deleted.
        let (status, _) = await db.handle(
            operation: "PutItem",
            request: [
                "TableName": "items", "Item": ["pk": ["S": "ttl"], "sk": ["N": "1"]],
                "ConditionExpression": "attribute_not_exists(pk)",
            ])
        #expect(status == 400)
        #expect(try await db.sweepExpired() == 1)
        #expect(await call("Query", query)["Count"] == 2)
        let described = await call("DescribeTimeToLive", ["TableName": "items"])
        #expect(described["TimeToLiveDescription"]?["TimeToLiveStatus"] == "ENABLED")
    }

    @Test func indexProjectionsAndSparseness() async {
        let definition: JSONValue = [
            "TableName": "proj", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                ["AttributeName": "id", "AttributeType": "S"], ["AttributeName": "status", "AttributeType": "S"],
                ["AttributeName": "at", "AttributeType": "N"],
            ],
            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]],
            "GlobalSecondaryIndexes": [
                [
                    "IndexName": "keys",
                    "KeySchema": [
                        ["AttributeName": "status", "KeyType": "HASH"], ["AttributeName": "at", "KeyType": "RANGE"],
                    ], "Projection": ["ProjectionType": "KEYS_ONLY"],
                ],
                [
                    "IndexName": "incl", "KeySchema": [["AttributeName": "status", "KeyType": "HASH"]],
                    "Projection": ["ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]],
                ],
            ],
        ]
        await call("CreateTable", definition)
        for (id, status, at) in [("1", "open", "3"), ("2", "open", "1"), ("3", "closed", "2")] {
            await call(
                "PutItem",
                [
                    "TableName": "proj",
                    "Item": [
                        "id": ["S": .string(id)], "status": ["S": .string(status)], "at": ["N": .string(at)],
                        "title": ["S": "t"], "secret": ["S": "s"],
                    ],
                ])
        }
        await call(
            "PutItem", ["TableName": "proj", "Item": ["id": ["S": "4"], "title": ["S": "no status: not indexed"]]])
        let keys = await call(
            "Query",
            [
                "TableName": "proj", "IndexName": "keys", "KeyConditionExpression": "#s = :o",
                "ExpressionAttributeNames": ["#s": "status"], "ExpressionAttributeValues": [":o": ["S": "open"]],
            ])
        #expect(
            keys["Items"]?.arrayValue?.compactMap { $0["id"]?["S"]?.stringValue } == ["2", "1"],
            "ordered by the index sort key")
        #expect(keys["Items"]?.arrayValue?.allSatisfy { $0["title"] == nil && $0["secret"] == nil } == true)
        let included = await call(
            "Query",
            [
                "TableName": "proj", "IndexName": "incl", "KeyConditionExpression": "#s = :o",
                "ExpressionAttributeNames": ["#s": "status"], "ExpressionAttributeValues": [":o": ["S": "closed"]],
            ])
        #expect(
            included["Items"] == [["id": ["S": "3"], "status": ["S": "closed"], "title": ["S": "t"]]],
            "INCLUDE: table keys, index keys and the named attributes only")
        let scan = await call("Scan", ["TableName": "proj", "IndexName": "keys"])
        #expect(scan["Count"] == 3, "the item without the index key is not in the index")
    }

    @Test func idempotentTransactionsWithClientRequestToken() async {
        let request: JSONValue = [
            "ClientRequestToken": "token-1",
            "TransactItems": [
                [
                    "Update": [
                        "TableName": "items", "Key": ["pk": ["S": "c"], "sk": ["N": "1"]],
                        "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": [":one": ["N": "1"]],
                    ]
                ]
            ],
        ]
        await call("TransactWriteItems", request)
        await call("TransactWriteItems", request)
        let item = await call("GetItem", ["TableName": "items", "Key": ["pk": ["S": "c"], "sk": ["N": "1"]]])
        #expect(item["Item"]?["n"] == ["N": "1"], "a retried transaction applies once")
        var changed = request.objectValue!
        changed["TransactItems"] = [["Delete": ["TableName": "items", "Key": ["pk": ["S": "c"], "sk": ["N": "1"]]]]]
        let mismatch = await call("TransactWriteItems", .object(changed), expect: 400)
        #expect(errorType(mismatch)?.hasSuffix("IdempotentParameterMismatchException") == true)
    }
}

@Suite struct DynamoNumberTests {
    @Test(arguments: [
        ("1", "2", "3"), ("0.1", "0.2", "0.3"), ("-5", "3", "-2"), ("1e2", "-100", "0"),
        ("99999999999999999999", "1", "100000000000000000000"),
        ("-0.001", "-0.009", "-0.01"), ("123.456", "-123.4", "0.056"),
    ])
    func exactAddition(a: String, b: String, sum: String) throws {
        #expect((try DynamoNumber(a) + DynamoNumber(b)).description == sum)
    }

    @Test func orderedKeysSortNumerically() throws {
        let values = ["-1000", "-2.5", "-2", "-0.001", "0", "0.001", "1", "1.5", "2", "10", "1e3"]
        let keys = try values.map { try DynamoNumber($0).orderedKey }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
    }
}

/// Index key attributes are typed on every write, whether or not the item lands in the index.
/// Source: DynamoDB Developer Guide, "Using Global Secondary Indexes in DynamoDB" (index key
/// attributes must be top-level scalars of the type the table's AttributeDefinitions declare;
/// a write with another type or an empty string/binary is a ValidationException).
@Suite struct IndexKeyTypeTests {
    let db: LocalDynamoDB

    init() async throws {
        db = try LocalDynamoDB(path: ":memory:")
        let table: JSONValue = [
            "TableName": "items", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]],
            "AttributeDefinitions": [
                ["AttributeName": "pk", "AttributeType": "S"], ["AttributeName": "status", "AttributeType": "S"],
                ["AttributeName": "id", "AttributeType": "S"],
            ],
            "GlobalSecondaryIndexes": [
                [
                    "IndexName": "byStatus",
                    "KeySchema": [
                        ["AttributeName": "status", "KeyType": "HASH"], ["AttributeName": "id", "KeyType": "RANGE"],
                    ],
                    "Projection": ["ProjectionType": "ALL"],
                ]
            ],
        ]
        #expect(await db.handle(operation: "CreateTable", request: table).status == 200)
    }

    func put(_ item: JSONValue) async -> (Int, JSONValue) {
        await db.handle(operation: "PutItem", request: ["TableName": "items", "Item": item])
    }

    /// The idempotency record items' POST once wrote: `status` a number, no `id`.
    @Test func aWronglyTypedIndexKeyIsRefusedEvenWhenTheItemIsNotIndexed() async {
        let (status, body) = await put(["pk": ["S": "IDEMPOTENCY#k"], "status": ["N": "201"]])
        #expect(status == 400)
        #expect(body["__type"]?.stringValue?.hasSuffix("#ValidationException") == true)
        #expect(
            body["message"]?.stringValue?.contains("Type mismatch for Index Key status Expected: S Actual: N") == true,
            "\(body.jsonString)")
        let update = await db.handle(
            operation: "UpdateItem",
            request: [
                "TableName": "items", "Key": ["pk": ["S": "a"]], "UpdateExpression": "SET #s = :n",
                "ExpressionAttributeNames": ["#s": "status"], "ExpressionAttributeValues": [":n": ["N": "1"]],
            ])
        #expect(update.status == 400, "\(update.body.jsonString)")
    }

    @Test func anEmptyIndexKeyIsRefused() async {
        let (status, body) = await put(["pk": ["S": "a"], "status": ["S": ""]])
        #expect(status == 400)
        #expect(body["message"]?.stringValue?.contains("cannot contain an empty string value") == true)
    }

    @Test func correctlyTypedAndSparseItemsAreWritten() async {
        #expect(await put(["pk": ["S": "a"], "status": ["S": "open"], "id": ["S": "1"]]).0 == 200)
        #expect(await put(["pk": ["S": "b"], "status": ["S": "open"]]).0 == 200)
        #expect(await put(["pk": ["S": "c"], "other": ["N": "1"]]).0 == 200)
    }
}

/// Inputs that once crashed or were ignored. Sources: DynamoDB Developer Guide, "Legacy conditional
/// parameters" (Expected, AttributeUpdates) and "Service, account, and table quotas" (4 KB
/// expressions).
@Suite struct LocalEngineRegressionTests {
    let db: LocalDynamoDB

    init() async throws {
        db = try LocalDynamoDB(path: ":memory:")
        #expect(await db.handle(operation: "CreateTable", request: tableDefinition("items")).status == 200)
    }

    func put(_ condition: String) async -> (Int, JSONValue) {
        await db.handle(
            operation: "PutItem",
            request: [
                "TableName": "items", "Item": ["pk": ["S": "a"], "sk": ["N": "1"]],
                "ConditionExpression": .string(condition), "ExpressionAttributeValues": [":v": ["N": "1"]],
            ])
    }

    /// Every one of these stayed under 4 KB and used to recurse without bound.
    @Test(arguments: [
        String(repeating: "(n = :v AND ", count: 300) + "n = :v" + String(repeating: ")", count: 300),
        String(repeating: "NOT ", count: 1_000) + "n = :v",
        String(repeating: "(", count: 2_000) + "n = :v" + String(repeating: ")", count: 2_000),
    ])
    func deeplyNestedConditionsAreRefusedNotFatal(condition: String) async {
        #expect(condition.utf8.count <= 4096 || condition.hasPrefix("(("))
        let (status, body) = await put(condition)
        #expect(status == 400)
        #expect(body["__type"]?.stringValue?.hasSuffix("#ValidationException") == true, "\(body.jsonString)")
    }

    @Test func deeplyNestedUpdateFunctionsAreRefused() async {
        let update =
            "SET n = " + String(repeating: "if_not_exists(n, ", count: 500) + ":v" + String(repeating: ")", count: 500)
        let (status, _) = await db.handle(
            operation: "UpdateItem",
            request: [
                "TableName": "items", "Key": ["pk": ["S": "a"], "sk": ["N": "1"]], "UpdateExpression": .string(update),
                "ExpressionAttributeValues": [":v": ["N": "1"]],
            ])
        #expect(status == 400)
    }

    @Test func aConditionalWriteWithExpectedThatFailsWritesNothing() async {
        let key: JSONValue = ["pk": ["S": "e"], "sk": ["N": "1"]]
        #expect(
            await db.handle(
                operation: "PutItem",
                request: ["TableName": "items", "Item": ["pk": ["S": "e"], "sk": ["N": "1"], "v": ["N": "1"]]]
            )
            .status == 200)
        let (status, body) = await db.handle(
            operation: "PutItem",
            request: [
                "TableName": "items", "Item": ["pk": ["S": "e"], "sk": ["N": "1"], "v": ["N": "2"]],
                "Expected": ["v": ["Value": ["N": "9"]]],
            ])
        #expect(status == 400 && body["__type"]?.stringValue?.hasSuffix("#ConditionalCheckFailedException") == true)
        let read = await db.handle(
            operation: "GetItem", request: ["TableName": "items", "Key": key, "ConsistentRead": true])
        #expect(read.body["Item"]?["v"] == ["N": "1"], "the failed write changed nothing")
    }

    @Test func attributeUpdatesWrite() async {
        let key: JSONValue = ["pk": ["S": "u"], "sk": ["N": "1"]]
        let (status, body) = await db.handle(
            operation: "UpdateItem",
            request: [
                "TableName": "items", "Key": key, "ReturnValues": "ALL_NEW",
                "AttributeUpdates": [
                    "count": ["Action": "ADD", "Value": ["N": "2"]], "name": ["Value": ["S": "Ada"]],
                    "tags": ["Action": "ADD", "Value": ["SS": ["x"]]],
                ],
            ])
        #expect(status == 200, "\(body.jsonString)")
        let read = await db.handle(
            operation: "GetItem", request: ["TableName": "items", "Key": key, "ConsistentRead": true])
        #expect(read.body["Item"]?["count"] == ["N": "2"] && read.body["Item"]?["name"] == ["S": "Ada"])
        #expect(read.body["Item"]?["tags"] == ["SS": ["x"]])
    }

    @Test func parametersTheEngineDoesNotKnowAreRefusedByName() async {
        let (status, body) = await db.handle(
            operation: "PutItem",
            request: ["TableName": "items", "Item": ["pk": ["S": "a"], "sk": ["N": "1"]], "Expectd": [:]])
        #expect(status == 400 && body["message"]?.stringValue?.contains("'Expectd'") == true)
    }
}

/// service.json tables with local secondary indexes, a stream and a multi-attribute global index
/// key, created as `make run` and the tests create them.
@Suite struct DeclaredTableFeaturesTests {
    @Test func localIndexesStreamsAndMultiAttributeKeys() async throws {
        let declaration = try JSON.decodeStrict(
            ServiceDeclaration.Table.self,
            from: try JSONValue.parse(
                #"{"partitionKey":{"name":"pk","type":"S"},"sortKey":{"name":"sk","type":"S"},"stream":"NEW_IMAGE","localSecondaryIndexes":[{"name":"byTime","sortKey":{"name":"at","type":"N"},"projection":"KEYS_ONLY"}]}"#
            ))
        let db = try LocalDynamoDB(path: ":memory:")
        #expect(
            await db.handle(operation: "CreateTable", request: declaration.createTableRequest(name: "events")).status
                == 200)
        let described = await db.handle(operation: "DescribeTable", request: ["TableName": "events"]).body["Table"]
        #expect(described?["LocalSecondaryIndexes"]?.arrayValue?.first?["IndexName"] == "byTime")
        #expect(described?["StreamSpecification"]?["StreamViewType"] == "NEW_IMAGE")

        // A global index keyed on two partition and two sort attributes (DynamoDB's multi-attribute keys).
        let table: JSONValue = [
            "TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]],
            "AttributeDefinitions": [
                ["AttributeName": "id", "AttributeType": "S"], ["AttributeName": "tenant", "AttributeType": "S"],
                ["AttributeName": "region", "AttributeType": "S"], ["AttributeName": "day", "AttributeType": "S"],
                ["AttributeName": "n", "AttributeType": "N"],
            ],
            "GlobalSecondaryIndexes": [
                [
                    "IndexName": "byTenantRegion",
                    "KeySchema": [
                        ["AttributeName": "tenant", "KeyType": "HASH"], ["AttributeName": "region", "KeyType": "HASH"],
                        ["AttributeName": "day", "KeyType": "RANGE"], ["AttributeName": "n", "KeyType": "RANGE"],
                    ],
                    "Projection": ["ProjectionType": "ALL"],
                ]
            ],
        ]
        #expect(await db.handle(operation: "CreateTable", request: table).status == 200)
        for (id, tenant, region, day, n) in [
            ("1", "t1", "eu", "2026-12-01", "1"), ("2", "t1", "eu", "2026-12-01", "2"),
            ("3", "t1", "eu", "2026-12-02", "1"),
            ("4", "t1", "us", "2026-12-01", "1"), ("5", "t2", "eu", "2026-12-01", "1"),
        ] {
            let item: JSONValue = [
                "id": .object(["S": .string(id)]), "tenant": .object(["S": .string(tenant)]),
                "region": .object(["S": .string(region)]), "day": .object(["S": .string(day)]),
                "n": .object(["N": .string(n)]),
            ]
            #expect(
                await db.handle(operation: "PutItem", request: ["TableName": "orders", "Item": item]).status == 200)
        }
        func ids(_ condition: String, _ values: JSONValue) async -> [String] {
            // region and day are reserved words: placeholders stand for them.
            var names = JSONObject()
            if condition.contains("#r") { names["#r"] = "region" }
            if condition.contains("#d") { names["#d"] = "day" }
            let result = await db.handle(
                operation: "Query",
                request: [
                    "TableName": "orders", "IndexName": "byTenantRegion", "KeyConditionExpression": .string(condition),
                    "ExpressionAttributeValues": values, "ExpressionAttributeNames": .object(names),
                ])
            return result.body["Items"]?.arrayValue?.compactMap { $0["id"]?["S"]?.stringValue } ?? [
                "\(result.body.jsonString)"
            ]
        }
        #expect(await ids("tenant = :t AND #r = :r", [":t": ["S": "t1"], ":r": ["S": "eu"]]) == ["1", "2", "3"])
        #expect(
            await ids(
                "tenant = :t AND #r = :r AND #d = :d",
                [":t": ["S": "t1"], ":r": ["S": "eu"], ":d": ["S": "2026-12-01"]])
                == ["1", "2"])
        #expect(
            await ids(
                "tenant = :t AND #r = :r AND #d = :d AND n > :n",
                [":t": ["S": "t1"], ":r": ["S": "eu"], ":d": ["S": "2026-12-01"], ":n": ["N": "1"]]) == ["2"])
        let missingPartition = await db.handle(
            operation: "Query",
            request: [
                "TableName": "orders", "IndexName": "byTenantRegion", "KeyConditionExpression": "tenant = :t",
                "ExpressionAttributeValues": [":t": ["S": "t1"]],
            ])
        #expect(missingPartition.status == 400, "every partition attribute needs an equality")
    }
}
