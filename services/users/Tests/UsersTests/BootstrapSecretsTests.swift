import AWSCore
import DynamoDB
import HTTPAPI
import JSONCoding
import LambdaTesting
import ServiceKit
import ServiceTesting
import Testing

/// The packaged users bootstrap reads its cursor secret at init and fails closed: under Lambda it
/// comes from Secrets Manager (CURSOR_SECRET_ARN) or init posts /init/error.
@Suite(.serialized) struct BootstrapSecretsTests {
    static let credentials = [
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "swiftapi-staging-users",
    ]

    func launch(_ emulator: RuntimeAPIEmulator, _ environment: [String: String]) throws -> BootstrapProcess {
        try BootstrapProcess(
            BootstrapProcess.builtExecutable("users-bootstrap"),
            environment: Self.credentials.merging(environment) { $1 }.merging([
                "AWS_LAMBDA_RUNTIME_API": emulator.endpoint
            ]) { $1 })
    }

    func initError(_ emulator: RuntimeAPIEmulator, _ process: BootstrapProcess) async throws -> String {
        #expect(try await process.exitStatus() == 1, "\(process.text)")
        guard case .initError(let type, let document) = await emulator.initError else {
            Issue.record("no /init/error: \(process.text)")
            return ""
        }
        #expect(type.hasPrefix("Function."))
        return document["errorMessage"]?.stringValue ?? "\(document)"
    }

    @Test func underLambdaWithoutTheSecretsARNInitFails() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        // A plain value in the environment is not accepted under Lambda either: there is no default.
        let process = try launch(emulator, ["CURSOR_SECRET": "a-value-in-the-environment-is-not-enough"])
        defer { process.terminate() }
        #expect(try await initError(emulator, process).contains("CURSOR_SECRET_ARN is not set"))
        await emulator.stop()
    }

    @Test func theSecretIsReadFromSecretsManagerAtInit() async throws {
        let moto = try await MotoServer.start()
        let environment = AWSEnvironment(
            credentials: AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing"), region: "eu-west-1")
        let secrets = try AWSJSONService(
            endpoint: moto.endpoint, signingName: "secretsmanager", targetPrefix: "secretsmanager", jsonVersion: "1.1",
            credentials: environment.credentials, region: environment.region)
        func create(_ request: JSONValue) async throws -> String {
            let reply = try await secrets.send("CreateSecret", body: request.serialized(), timeout: .seconds(5))
            return try #require(try JSONValue.parse(reply.body)["ARN"]?.stringValue)
        }
        let withValue = try await create([
            "Name": "swiftapi-staging-cursor-secret", "SecretString": "a-secret-from-secrets-manager-0123456789",
        ])
        let withoutValue = try await create(["Name": "swiftapi-staging-not-yet-set"])
        let db = try DynamoDBClient(environment: environment, endpoint: moto.endpoint)
        try await ServiceDeclaration.load(path: declarationPath).createTables(db)

        let emulator = try await RuntimeAPIEmulator.start()
        let process = try launch(emulator, ["CURSOR_SECRET_ARN": withValue, "AWS_ENDPOINT_URL": moto.endpoint])
        let event: JSONValue = [
            "version": "2.0", "routeKey": "GET /users", "rawPath": "/users", "rawQueryString": "",
            "headers": [:], "isBase64Encoded": false,
            "requestContext": [
                "http": ["method": "GET", "path": "/users", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"],
                "requestId": "r", "stage": "$default", "routeKey": "GET /users",
            ],
        ]
        let result = await emulator.invoke(event.serialized())
        #expect(result.responseJSON?["statusCode"] == 200, "\(result) \(process.text)")
        process.terminate()
        await emulator.stop()

        let unset = try await RuntimeAPIEmulator.start()
        let second = try launch(unset, ["CURSOR_SECRET_ARN": withoutValue, "AWS_ENDPOINT_URL": moto.endpoint])
        defer { second.terminate() }
        let message = try await initError(unset, second)
        #expect(message.contains("has no SecretString value yet") || message.contains("ResourceNotFoundException"), "\(message)")
        await unset.stop()
        await secrets.shutdown()
        await db.shutdown()
        await moto.stop()
    }
}
