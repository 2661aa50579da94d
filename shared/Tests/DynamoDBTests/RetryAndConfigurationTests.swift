import AWSCore
import DynamoDB
import Foundation
import JSONCoding
import LambdaRuntime
import LambdaTesting
import Logging
import LoopbackHTTP
import Platform
import Synchronization
import Testing

/// A DynamoDB stand-in that throttles the first `throttles` calls, then answers.
final class ThrottlingServer: @unchecked Sendable {
    let calls = Mutex(0)
    let throttles: Int
    var server: LoopbackHTTPServer!

    init(throttles: Int) { self.throttles = throttles }

    func start() async throws -> String {
        server = try await LoopbackHTTPServer.start { [self] _ in
            let call = calls.withLock {
                $0 += 1
                return $0
            }
            if call <= throttles {
                return ServerResponse(
                    status: 400, headers: [("content-type", "application/x-amz-json-1.0")],
                    body: Array(
                        #"{"__type":"com.amazon.coral.availability#ThrottlingException","message":"Rate exceeded"}"#
                            .utf8))
            }
            return ServerResponse(
                status: 200, headers: [("content-type", "application/x-amz-json-1.0")],
                body: Array(#"{"Item":{"id":{"S":"1"}}}"#.utf8))
        }
        return "http://\(server.endpoint)"
    }

    var callCount: Int { calls.withLock { $0 } }
}

@Suite struct RetryAndConfigurationTests {
    static let environment = AWSEnvironment(
        credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1")

    @Test func throttlingIsRetriedWithBackoffUntilItSucceeds() async throws {
        let fake = ThrottlingServer(throttles: 3)
        let client = try DynamoDBClient(environment: Self.environment, endpoint: try await fake.start())
        let item = try await client.getItem(table: "t", key: ["id": .s("1")])
        #expect(item?["id"] == .s("1"))
        #expect(fake.callCount == 4, "three throttled attempts, then success")
        await client.shutdown()
        await fake.server.stop()
    }

    @Test func retriesNeverOutliveTheInvocationDeadline() async throws {
        let fake = ThrottlingServer(throttles: 1_000)
        var policy = DynamoDBClient.RetryPolicy()
        policy.maxAttempts = 1_000
        policy.baseDelayMilliseconds = 200
        let client = try DynamoDBClient(environment: Self.environment, endpoint: try await fake.start(), retry: policy)
        let context = LambdaContext(
            requestID: "r", deadlineMilliseconds: WallClock.nowMilliseconds() + 1_500, invokedFunctionARN: "arn",
            logger: Logger(label: "t"))
        let started = WallClock.nowMilliseconds()
        await #expect {
            try await LambdaContext.$current.withValue(context) {
                _ = try await client.getItem(table: "t", key: ["id": .s("1")])
            }
        } throws: { error in
            if case .throttled = error as? DynamoDBClientError { return true }
            return false
        }
        let elapsed = WallClock.nowMilliseconds() - started
        #expect(elapsed < 1_500, "gave up before the deadline (\(elapsed) ms)")
        #expect(fake.callCount > 1, "it did retry")
        await client.shutdown()
        await fake.server.stop()
    }

    @Test func finalErrorsAreNotRetried() async throws {
        let server = try await LoopbackHTTPServer.start { _ in
            ServerResponse(
                status: 400, headers: [("content-type", "application/x-amz-json-1.0")],
                body: Array(#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad key"}"#.utf8))
        }
        let client = try DynamoDBClient(environment: Self.environment, endpoint: "http://\(server.endpoint)")
        await #expect {
            _ = try await client.getItem(table: "t", key: ["id": .s("1")])
        } throws: { error in
            if case .validation(let message) = error as? DynamoDBClientError { return message == "bad key" }
            return false
        }
        await client.shutdown()
        await server.stop()
    }

    @Test func credentialsAndRegionComeFromTheEnvironmentThenTheProfile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try
            "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = defaultsecret\n\n[dev]\naws_access_key_id=DEVKEY\naws_secret_access_key = devsecret\naws_session_token = devtoken\n"
            .write(to: directory.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        try "[profile dev]\nregion = eu-central-1\n".write(
            to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let files = [
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("credentials").path,
            "AWS_CONFIG_FILE": directory.appendingPathComponent("config").path,
        ]
        let profile = try AWSEnvironment.load(files.merging(["AWS_PROFILE": "dev"]) { $1 })
        #expect(
            profile.credentials
                == AWSCredentials(accessKeyID: "DEVKEY", secretAccessKey: "devsecret", sessionToken: "devtoken"))
        #expect(profile.region == "eu-central-1")
        // Lambda's environment wins over files.
        let lambda = try AWSEnvironment.load(
            files.merging([
                "AWS_PROFILE": "dev", "AWS_ACCESS_KEY_ID": "ASIALAMBDA", "AWS_SECRET_ACCESS_KEY": "s",
                "AWS_SESSION_TOKEN": "t", "AWS_REGION": "us-west-2",
                "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
            ]) { $1 })
        #expect(lambda.credentials.accessKeyID == "ASIALAMBDA" && lambda.region == "us-west-2")
        #expect(lambda.endpoint(service: "dynamodb") == "http://127.0.0.1:8000")
        #expect(
            try AWSEnvironment.load(files.merging(["AWS_REGION": "eu-west-1"]) { $1 }).endpoint(service: "dynamodb")
                == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(throws: AWSEnvironment.ConfigurationError.self) {
            try AWSEnvironment.load(["HOME": directory.path, "AWS_REGION": "x"])
        }
    }
}
