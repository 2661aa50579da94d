import AWSCore
import DynamoDB
import DynamoDBModel
import Foundation
import JSONCoding
import LocalDynamoDB
import ServiceTesting
import Testing

/// The `local-dynamodb` executable as a developer runs it, driven by AWS's own CLI and boto3.
@Suite(.serialized) struct LocalProcessTests {
    static var executable: String {
        var directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("local-dynamodb").path
    }

    final class Server: @unchecked Sendable {
        let process = Process()
        let port = TestSupport.freePort()
        var endpoint: String { "http://127.0.0.1:\(port)" }

        init(arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: LocalProcessTests.executable)
            process.arguments = ["--port", String(port)] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        static func start(_ arguments: [String] = ["--in-memory"]) async throws -> Server {
            let server = try Server(arguments: arguments)
            try await TestSupport.waitForPort(server.port)
            return server
        }

        func kill9() async { await TestSupport.kill9(process) }
    }

    static let awsEnvironment = [
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    ]

    func aws(_ endpoint: String, _ arguments: [String], service: String = "dynamodb") async throws -> JSONValue {
        let result = try TestSupport.run(
            [TestSupport.tool("aws"), service] + arguments + ["--endpoint-url", endpoint, "--output", "json"],
            environment: Self.awsEnvironment)
        try #require(result.status == 0, "aws \(service) \(arguments.first ?? ""): \(result.error)")
        return result.output.isEmpty ? .null : try JSONValue.parse(result.output)
    }

    /// Local secondary indexes, UpdateTable, streams, tags and consumed capacity, as a developer
    /// uses them from AWS's CLI.
    @Test func localIndexesUpdateTableStreamsTagsAndCapacityFromTheAWSCLI() async throws {
        let server = try await Server.start()
        let e = server.endpoint
        do {
            let created = try await aws(
                e,
                [
                    "create-table", "--table-name", "cli-features", "--billing-mode", "PAY_PER_REQUEST",
                    "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S",
                    "AttributeName=at,AttributeType=S",
                    "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
                    "--local-secondary-indexes",
                    #"[{"IndexName":"byAt","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"at","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]"#,
                    "--stream-specification", "StreamEnabled=true,StreamViewType=NEW_IMAGE", "--tags",
                    "Key=team,Value=api",
                ])
            let arn = try #require(created["TableDescription"]?["TableArn"]?.stringValue)
            #expect(created["TableDescription"]?["LocalSecondaryIndexes"]?.arrayValue?.count == 1)
            let put = try await aws(
                e,
                [
                    "put-item", "--table-name", "cli-features", "--return-consumed-capacity", "INDEXES", "--item",
                    #"{"pk":{"S":"u1"},"sk":{"S":"a"},"at":{"S":"2026-12-01"},"g":{"S":"blue"}}"#,
                ])
            #expect(put["ConsumedCapacity"]?["CapacityUnits"] == .number("2.0"), "the table and its local index")
            #expect(put["ConsumedCapacity"]?["LocalSecondaryIndexes"]?["byAt"]?["CapacityUnits"] == .number("1.0"))
            let byDate = try await aws(
                e,
                [
                    "query", "--table-name", "cli-features", "--index-name", "byAt", "--consistent-read",
                    "--key-condition-expression", "pk = :p AND #at > :d", "--expression-attribute-names",
                    ##"{"#at":"at"}"##,
                    "--expression-attribute-values", #"{":p":{"S":"u1"},":d":{"S":"2026"}}"#,
                ])
            #expect(byDate["Count"] == 1)
            let updating = try await aws(
                e,
                [
                    "update-table", "--table-name", "cli-features", "--attribute-definitions",
                    "AttributeName=g,AttributeType=S",
                    "--global-secondary-index-updates",
                    #"[{"Create":{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}}]"#,
                ])
            #expect(updating["TableDescription"]?["TableStatus"] == "UPDATING")
            #expect(
                updating["TableDescription"]?["GlobalSecondaryIndexes"]?.arrayValue?.first?["IndexStatus"] == "CREATING"
            )
            _ = try await aws(e, ["wait", "table-exists", "--table-name", "cli-features"])
            var active = false
            for _ in 0..<50 where !active {
                let described = try await aws(e, ["describe-table", "--table-name", "cli-features"])
                active = described["Table"]?["GlobalSecondaryIndexes"]?.arrayValue?.first?["IndexStatus"] == "ACTIVE"
                if !active { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(active, "the new index becomes ACTIVE")
            let backfilled = try await aws(
                e,
                [
                    "query", "--table-name", "cli-features", "--index-name", "byG", "--key-condition-expression",
                    "g = :g",
                    "--expression-attribute-values", #"{":g":{"S":"blue"}}"#,
                ])
            #expect(
                backfilled["Items"] == [["pk": ["S": "u1"], "sk": ["S": "a"], "g": ["S": "blue"]]],
                "backfilled, keys only")
            _ = try await aws(e, ["tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=test"])
            _ = try await aws(e, ["untag-resource", "--resource-arn", arn, "--tag-keys", "team"])
            let tags = try await aws(e, ["list-tags-of-resource", "--resource-arn", arn])
            #expect(tags["Tags"] == [["Key": "env", "Value": "test"]])
            let streams = try await aws(
                e, ["list-streams", "--table-name", "cli-features"], service: "dynamodbstreams")
            let stream = try #require(streams["Streams"]?.arrayValue?.first?["StreamArn"]?.stringValue)
            let shard = try #require(
                try await aws(e, ["describe-stream", "--stream-arn", stream], service: "dynamodbstreams")[
                    "StreamDescription"]?["Shards"]?.arrayValue?.first?["ShardId"]?.stringValue)
            let iterator = try #require(
                try await aws(
                    e,
                    [
                        "get-shard-iterator", "--stream-arn", stream, "--shard-id", shard, "--shard-iterator-type",
                        "TRIM_HORIZON",
                    ],
                    service: "dynamodbstreams")["ShardIterator"]?.stringValue)
            let records = try await aws(e, ["get-records", "--shard-iterator", iterator], service: "dynamodbstreams")
            #expect(records["Records"]?.arrayValue?.first?["eventName"] == "INSERT")
            #expect(records["Records"]?.arrayValue?.first?["dynamodb"]?["NewImage"]?["g"] == ["S": "blue"])
            #expect(
                records["Records"]?.arrayValue?.first?["dynamodb"]?["OldImage"] == nil, "NEW_IMAGE has no old image")
        } catch {
            await server.kill9()
            throw error
        }
        await server.kill9()
    }

    @Test func awsCLIWorksAgainstIt() async throws {
        let server = try await Server.start()
        let e = server.endpoint
        do { try await useCLI(e) } catch {
            await server.kill9()
            throw error
        }
        await server.kill9()
    }

    func useCLI(_ e: String) async throws {
        let created = try await aws(
            e,
            [
                "create-table", "--table-name", "cli-table", "--billing-mode", "PAY_PER_REQUEST",
                "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S",
                "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
            ])
        #expect(created["TableDescription"]?["TableStatus"] == "ACTIVE")
        _ = try await aws(
            e,
            [
                "put-item", "--table-name", "cli-table", "--item",
                #"{"pk":{"S":"u1"},"sk":{"S":"profile"},"n":{"N":"1"}}"#,
            ])
        _ = try await aws(
            e, ["put-item", "--table-name", "cli-table", "--item", #"{"pk":{"S":"u1"},"sk":{"S":"order#1"}}"#])
        let updated = try await aws(
            e,
            [
                "update-item", "--table-name", "cli-table", "--key", #"{"pk":{"S":"u1"},"sk":{"S":"profile"}}"#,
                "--update-expression", "SET n = n + :d", "--expression-attribute-values", #"{":d":{"N":"41"}}"#,
                "--return-values", "UPDATED_NEW",
            ])
        #expect(updated["Attributes"] == ["n": ["N": "42"]])
        let queried = try await aws(
            e,
            [
                "query", "--table-name", "cli-table", "--key-condition-expression", "pk = :p AND begins_with(sk, :o)",
                "--expression-attribute-values", #"{":p":{"S":"u1"},":o":{"S":"order#"}}"#,
            ])
        #expect(queried["Count"] == 1)
        _ = try await aws(
            e,
            [
                "transact-write-items", "--transact-items",
                #"[{"Put":{"TableName":"cli-table","Item":{"pk":{"S":"u2"},"sk":{"S":"profile"}},"ConditionExpression":"attribute_not_exists(pk)"}}]"#,
            ])
        let failed = try TestSupport.run(
            [
                TestSupport.tool("aws"), "dynamodb", "transact-write-items", "--endpoint-url", e, "--transact-items",
                #"[{"Put":{"TableName":"cli-table","Item":{"pk":{"S":"u2"},"sk":{"S":"profile"}},"ConditionExpression":"attribute_not_exists(pk)"}}]"#,
            ],
            environment: Self.awsEnvironment)
        #expect(failed.status != 0)
        #expect(
            failed.error.contains("TransactionCanceledException") && failed.error.contains("ConditionalCheckFailed"),
            "\(failed.error)")
    }

    @Test func acknowledgedWritesSurviveKill9() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ddb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("data.sqlite").path
        let environment = AWSEnvironment(
            credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1")
        var server = try await Server.start(["--db", file])
        var client = try DynamoDBClient(environment: environment, endpoint: server.endpoint)
        try await client.createTable(tableDefinition("durable", gsi: false))
        for i in 0..<200 { try await client.putItem(table: "durable", item: key("p", i)) }
        await server.kill9()
        await client.shutdown()
        server = try await Server.start(["--db", file])
        client = try DynamoDBClient(environment: environment, endpoint: server.endpoint)
        let all = try? await client.queryAll(table: "durable", keyCondition: .equals("pk", .s("p")))
        #expect(all?.count == 200, "every acknowledged write is there after kill -9")
        await client.shutdown()
        await server.kill9()
    }

    /// Many clients increment one item with a version condition, retrying on conflict.
    @Test func concurrentVersionedUpdatesLoseNothing() async throws {
        let server = try await Server.start()
        let environment = AWSEnvironment(
            credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1")
        let setup = try DynamoDBClient(environment: environment, endpoint: server.endpoint)
        try await setup.createTable(tableDefinition("counter", gsi: false))
        try await setup.putItem(
            table: "counter",
            item: key("c", 1).merging(["version": .n(DynamoNumber(0)), "hits": .n(DynamoNumber(0))]) { $1 })
        let workers = 12
        let incrementsEach = 15
        let conflicts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    let client = try DynamoDBClient(environment: environment, endpoint: server.endpoint)
                    var conflicts = 0
                    for _ in 0..<incrementsEach {
                        while true {
                            let current = try await client.getItem(
                                table: "counter", key: key("c", 1), consistentRead: true)
                            let version = current?["version"]?.numberValue ?? DynamoNumber(0)
                            let hits = current?["hits"]?.numberValue ?? DynamoNumber(0)
                            do {
                                try await client.updateItem(
                                    table: "counter", key: key("c", 1),
                                    update: Update().set("version", .n(version + DynamoNumber(1))).set(
                                        "hits", .n(hits + DynamoNumber(1))),
                                    condition: .equals("version", .n(version)))
                                break
                            } catch DynamoDBClientError.conditionalCheckFailed {
                                conflicts += 1
                            }
                        }
                    }
                    await client.shutdown()
                    return conflicts
                }
            }
            return try await group.reduce(0, +)
        }
        let final = try #require(try await setup.getItem(table: "counter", key: key("c", 1)))
        #expect(final["hits"] == .n(DynamoNumber(workers * incrementsEach)), "no lost update")
        #expect(final["version"] == .n(DynamoNumber(workers * incrementsEach)))
        #expect(conflicts > 0, "the workers really raced (\(conflicts) conflicts)")
        await setup.shutdown()
        await server.kill9()
    }
}
