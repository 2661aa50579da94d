import AWSCore
import DynamoDB
import DynamoDBModel
import Foundation
import JSONCoding
import LocalDynamoDB
import ServiceTesting
import Testing

/// Where a client test suite runs: the local DynamoDB (in memory) or moto, both over HTTP.
enum Backend: String, CaseIterable, Sendable {
    case local, moto
}

/// A running backend and a client pointed at it; `stop()` ends what `start` began.
struct BackendHandle {
    let client: DynamoDBClient
    let stop: () async -> Void

    static let environment = AWSEnvironment(
        credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing", sessionToken: "token"),
        region: "us-east-1")

    static func start(_ backend: Backend) async throws -> BackendHandle {
        switch backend {
        case .local:
            let service = try LocalDynamoDB(path: ":memory:")
            let port = try await service.start(port: 0)
            let client = try DynamoDBClient(environment: environment, endpoint: "http://127.0.0.1:\(port)")
            return BackendHandle(client: client) {
                await client.shutdown()
                await service.stop()
            }
        case .moto:
            let moto = try await MotoServer.start()
            let client = try DynamoDBClient(environment: environment, endpoint: moto.endpoint)
            return BackendHandle(client: client) {
                await client.shutdown()
                await moto.stop()
            }
        }
    }
}

/// Runs `body` with a client on a fresh backend, stopping the backend whatever happens.
func withBackend(_ backend: Backend, _ body: (DynamoDBClient) async throws -> Void) async throws {
    let handle = try await BackendHandle.start(backend)
    do { try await body(handle.client) } catch {
        await handle.stop()
        throw error
    }
    await handle.stop()
}

func tableDefinition(_ name: String, sortKey: Bool = true, gsi: Bool = true) -> JSONValue {
    var attributes: [JSONValue] = [["AttributeName": "pk", "AttributeType": "S"]]
    var keys: [JSONValue] = [["AttributeName": "pk", "KeyType": "HASH"]]
    if sortKey {
        attributes.append(["AttributeName": "sk", "AttributeType": "N"])
        keys.append(["AttributeName": "sk", "KeyType": "RANGE"])
    }
    var definition: JSONObject = [
        "TableName": .string(name), "BillingMode": "PAY_PER_REQUEST", "AttributeDefinitions": .array(attributes),
        "KeySchema": .array(keys),
    ]
    if gsi {
        attributes.append(["AttributeName": "owner", "AttributeType": "S"])
        definition["AttributeDefinitions"] = .array(attributes)
        definition["GlobalSecondaryIndexes"] = [
            [
                "IndexName": "byOwner", "KeySchema": [["AttributeName": "owner", "KeyType": "HASH"]],
                "Projection": ["ProjectionType": "ALL"],
            ]
        ]
    }
    return .object(definition)
}

func key(_ pk: String, _ sk: Int) -> Item { ["pk": .s(pk), "sk": .n(DynamoNumber(sk))] }

/// The same assertions against the local DynamoDB and moto: the local engine must behave like the
/// peer that AWS's own SDKs are tested against.
@Suite(.serialized) struct ClientSuiteTests {
    @Test(arguments: Backend.allCases)
    func itemsRoundTripEveryTypeExactly(backend: Backend) async throws {
        try await withBackend(backend) { db in
            try await db.createTable(tableDefinition("types"))
            let item: Item = [
                "pk": .s("p"), "sk": .n(try DynamoNumber("1")),
                "big": .n(try DynamoNumber("12345678901234567890123456789012345678")),
                "precise": .n(try DynamoNumber("0.1000000000000000000000000000000000001")),
                "neg": .n(try DynamoNumber("-1.5E+3")),
                "bin": .b([0, 1, 255]), "flag": .bool(true), "nothing": .null,
                "map": .m(["a": .l([.s("x"), .n(DynamoNumber(2))])]),
                "strings": .ss(["a", "b"]), "numbers": .ns([try DynamoNumber("1"), try DynamoNumber("2.5")]),
                "binaries": .bs([[1], [2, 3]]),
                "unicode": .s("héllo 😀"),
            ]
            try await db.putItem(table: "types", item: item)
            let read = try #require(try await db.getItem(table: "types", key: key("p", 1)))
            #expect(read == item)
            #expect(read["neg"]?.numberValue?.description == "-1500")
            #expect(try await db.getItem(table: "types", key: key("p", 2)) == nil)
            let projected = try #require(
                try await db.getItem(table: "types", key: key("p", 1), projection: ["flag", "unicode"]))
            #expect(projected == ["flag": .bool(true), "unicode": .s("héllo 😀")])
        }
    }

    @Test(arguments: Backend.allCases)
    func conditionalWritesAndUpdates(backend: Backend) async throws {
        try await withBackend(backend) { db in
            try await db.createTable(tableDefinition("cond"))
            try await db.putItem(
                table: "cond", item: key("a", 1).merging(["v": .n(DynamoNumber(1))]) { $1 }, condition: .notExists("pk")
            )
            await #expect(throws: DynamoDBClientError.self) {
                try await db.putItem(table: "cond", item: key("a", 1), condition: .notExists("pk"))
            }
            do {
                try await db.putItem(
                    table: "cond", item: key("a", 1), condition: .notExists("pk"), returnOldOnConditionFailure: true)
                Issue.record("the condition should have failed")
            } catch DynamoDBClientError.conditionalCheckFailed(_, let old) {
                #expect(old?["v"] == .n(DynamoNumber(1)), "ALL_OLD on failure returns the item")
            }
            let updated = try #require(
                try await db.updateItem(
                    table: "cond", key: key("a", 1),
                    update: Update().increment("v", by: DynamoNumber(41)).append("log", [.s("x")]).set(
                        "name", .s("Ada")
                    ).add("tags", .ss(["t1"])),
                    condition: .equals("v", .n(DynamoNumber(1)))))
            #expect(updated["v"] == .n(DynamoNumber(42)))
            #expect(updated["log"] == .l([.s("x")]))
            #expect(updated["tags"] == .ss(["t1"]))
            let removed = try await db.updateItem(
                table: "cond", key: key("a", 1), update: Update().remove("name").delete("tags", .ss(["t1"])),
                returnValues: .allNew)
            #expect(removed?["name"] == nil && removed?["tags"] == nil)
            await #expect(throws: DynamoDBClientError.self) {
                try await db.updateItem(
                    table: "cond", key: key("a", 1), update: Update().set("v", .n(DynamoNumber(0))),
                    condition: .compare("v", .gt, .n(DynamoNumber(100))))
            }
            let old = try await db.deleteItem(
                table: "cond", key: key("a", 1), condition: .exists("pk"), returnOld: true)
            #expect(old?["v"] == .n(DynamoNumber(42)))
            #expect(try await db.getItem(table: "cond", key: key("a", 1)) == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func queryScanPaginationAndIndexes(backend: Backend) async throws {
        try await withBackend(backend) { db in
            try await db.createTable(tableDefinition("pages"))
            let items = (1...30).map { i in
                key(i <= 20 ? "p" : "q", i).merging([
                    "owner": .s(i.isMultiple(of: 3) ? "ada" : "bob"), "n": .n(DynamoNumber(i)),
                ]) { $1 }
            }
            try await db.batchWrite(table: "pages", puts: items)
            let all = try await db.queryAll(table: "pages", keyCondition: .equals("pk", .s("p")), pageLimit: 7)
            #expect(all.compactMap { $0["sk"]?.numberValue } == (1...20).map { DynamoNumber($0) })
            let backwards = try await db.query(
                table: "pages",
                keyCondition: .and([.equals("pk", .s("p")), .between("sk", .n(DynamoNumber(5)), .n(DynamoNumber(9)))]),
                forward: false)
            #expect(backwards.items.compactMap { $0["sk"]?.numberValue } == [9, 8, 7, 6, 5].map { DynamoNumber($0) })
            let firstPage = try await db.query(table: "pages", keyCondition: .equals("pk", .s("p")), limit: 5)
            #expect(firstPage.items.count == 5)
            #expect(firstPage.lastEvaluatedKey == key("p", 5))
            let filtered = try await db.queryAll(
                table: "pages",
                keyCondition: .and([.equals("pk", .s("p")), .compare("sk", .gt, .n(DynamoNumber(10)))]),
                filter: .equals("owner", .s("ada")))
            #expect(filtered.compactMap { $0["sk"]?.numberValue } == [12, 15, 18].map { DynamoNumber($0) })
            let byOwner = try await db.queryAll(
                table: "pages", index: "byOwner", keyCondition: .equals("owner", .s("ada")), pageLimit: 3)
            #expect(
                Set(byOwner.compactMap { $0["n"]?.numberValue })
                    == Set(stride(from: 3, through: 30, by: 3).map { DynamoNumber($0) }))
            let everything = try await db.scanAll(table: "pages", pageLimit: 4)
            #expect(everything.count == 30)
            let counted = try await db.query(table: "pages", keyCondition: .equals("pk", .s("q")), countOnly: true)
            #expect(counted.count == 10 && counted.items.isEmpty)
            let got = try await db.batchGet(
                table: "pages", keys: (1...30).map { key($0 <= 20 ? "p" : "q", $0) } + [key("zz", 1)])
            #expect(got.count == 30)
        }
    }

    @Test(arguments: Backend.allCases)
    func transactionsAreAllOrNothing(backend: Backend) async throws {
        try await withBackend(backend) { db in
            try await db.createTable(tableDefinition("txn", gsi: false))
            try await db.putItem(table: "txn", item: key("a", 1).merging(["v": .n(DynamoNumber(1))]) { $1 })
            try await db.transactWrite([
                .update(
                    table: "txn", key: key("a", 1), update: Update().increment("v", by: DynamoNumber(1)),
                    condition: .equals("v", .n(DynamoNumber(1)))),
                .put(table: "txn", item: key("b", 1), condition: .notExists("pk")),
            ])
            do {
                try await db.transactWrite([
                    .put(table: "txn", item: key("c", 1)),
                    .conditionCheck(table: "txn", key: key("a", 1), condition: .equals("v", .n(DynamoNumber(1)))),
                ])
                Issue.record("the transaction should have been cancelled")
            } catch DynamoDBClientError.transactionCanceled(_, let reasons) {
                #expect(reasons.map(\.code) == ["None", "ConditionalCheckFailed"])
            }
            #expect(
                try await db.getItem(table: "txn", key: key("c", 1)) == nil,
                "nothing of a cancelled transaction is written")
            let both = try await db.transactGet([("txn", key("a", 1)), ("txn", key("b", 1)), ("txn", key("c", 1))])
            #expect(both[0]?["v"] == .n(DynamoNumber(2)))
            #expect(both[1] != nil && both[2] == nil)
        }
    }

    @Test(arguments: Backend.allCases)
    func errorsAreTyped(backend: Backend) async throws {
        try await withBackend(backend) { db in
            await #expect {
                _ = try await db.getItem(table: "missing-table", key: key("a", 1))
            } throws: { error in
                if case .resourceNotFound = error as? DynamoDBClientError { return true }
                return false
            }
            try await db.createTable(tableDefinition("errs", gsi: false))
            await #expect {
                try await db.putItem(table: "errs", item: ["pk": .s("only-partition")])
            } throws: { error in
                if case .validation(let message) = error as? DynamoDBClientError { return message.contains("sk") }
                return false
            }
        }
    }
}

/// boto3, AWS's own SDK, runs one mixed workload against the local DynamoDB and moto; every
/// step's normalised result must be the same.
@Suite struct DifferentialTests {
    @Test func boto3GetsTheSameResultsFromLocalAndMoto() async throws {
        let local = try LocalDynamoDB(path: ":memory:")
        let port = try await local.start(port: 0)
        let moto = try await MotoServer.start()
        let script = TestSupport.testsDirectory.appendingPathComponent("Scripts/dynamodb_workload.py").path
        let run = try? TestSupport.run([
            TestSupport.python, script, "diff", "http://127.0.0.1:\(port)", moto.endpoint,
        ])
        await moto.stop()
        await local.stop()
        let result = try #require(run)
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("0 failed"))
    }
}
