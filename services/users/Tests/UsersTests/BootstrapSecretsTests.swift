import AWSCore
import DynamoDB
import HTTPAPI
import JSONCoding
import LambdaTesting
import ServiceKit
import ServiceTesting
import Testing

/// The users bootstrap as deployed, failing closed. It reads its cursor secret from Secrets Manager
/// (CURSOR_SECRET_ARN) when a request first needs it: without the ARN under Lambda init posts
/// /init/error; a secret it cannot get is a 500 for the requests that need it, and the next one
/// tries again. It checks each route's declared access (ROUTE_ACCESS) before any handler runs:
/// without it, or with one that does not match its routes, it does not start.
@Suite(.serialized) struct BootstrapSecretsTests {
    static let credentials = [
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "swiftapi-staging-users",
    ]

    /// What modules/infrastructure sets from service.json.
    static var routeAccess: String {
        get throws { RouteAccess(declaration: try ServiceDeclaration.load(path: declarationPath)).environmentValue }
    }

    static let admin: JSONValue = ["jwt": ["claims": ["sub": "root"], "scopes": ["users.admin"]]]

    func launch(_ emulator: RuntimeAPIEmulator, _ environment: [String: String]) throws -> BootstrapProcess {
        try BootstrapProcess(
            BootstrapProcess.builtExecutable("users-bootstrap"),
            environment: Self.credentials.merging([RouteAccess.environmentName: try Self.routeAccess]) { $1 }
                .merging(environment) { $1 }.merging(["AWS_LAMBDA_RUNTIME_API": emulator.endpoint]) { $1 })
    }

    static func event(_ key: String, path: String, authorizer: JSONValue = .null) -> [UInt8] {
        let method = String(key.prefix { $0 != " " })
        let event: JSONValue = [
            "version": "2.0", "routeKey": .string(key), "rawPath": .string(path), "rawQueryString": "",
            "headers": [:], "isBase64Encoded": false,
            "requestContext": [
                "http": [
                    "method": .string(method), "path": .string(path), "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                ],
                "requestId": "r", "stage": "$default", "routeKey": .string(key), "authorizer": authorizer,
            ],
        ]
        return event.serialized()
    }

    @Test func withoutItsRoutesAccessOrWithOneThatDoesNotMatchInitFails() async throws {
        let arn = ["CURSOR_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cursor-AbCdEf"]
        let cases: [(String, String)] = [
            ("", "ROUTE_ACCESS is not set"),
            (#"{"GET /users":["users.admin"]}"#, "POST /users (served, not named)"),
            (
                #"{"GET /nowhere":null,"# + String(try Self.routeAccess.dropFirst()),
                "GET /nowhere (named, not served by users)"
            ),
            (#"{"GET /users":"users.admin"}"#, "ROUTE_ACCESS: GET /users needs a list of scopes or null"),
        ]
        for (value, message) in cases {
            let emulator = try await RuntimeAPIEmulator.start()
            let process = try launch(emulator, arn.merging([RouteAccess.environmentName: value]) { $1 })
            defer { process.terminate() }
            let reported = try await initError(emulator, process)
            #expect(reported.contains(message), "\(reported)")
            await emulator.stop()
        }
    }

    /// As if the gateway's authorizer were missing or its scope list edited: the function still
    /// refuses, before any handler (nothing is read, no secret is fetched).
    @Test func aRequestWithoutTheDeclaredScopeNeverReachesAHandler() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        let process = try launch(
            emulator, ["CURSOR_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cursor-AbCdEf"])
        defer { process.terminate() }
        let reader: JSONValue = ["jwt": ["claims": ["sub": "ada"], "scopes": ["users.read", "users.write"]]]
        let cases: [([UInt8], Int)] = [
            (Self.event("GET /users", path: "/users"), 401),
            (Self.event("GET /users", path: "/users", authorizer: reader), 403),
            (Self.event("GET /users/{id}", path: "/users/ada"), 401),
            (
                Self.event(
                    "DELETE /users/{id}", path: "/users/ada",
                    authorizer: ["jwt": ["claims": ["sub": "ada"], "scopes": []]]), 403
            ),
        ]
        for (event, status) in cases {
            let answer = await emulator.invoke(event)
            #expect(answer.responseJSON?["statusCode"] == .number(String(status)), "\(answer) \(process.text)")
            let problem = try JSONValue.parse(Array((answer.responseJSON?["body"]?.stringValue ?? "").utf8))
            #expect(problem["status"] == .number(String(status)))
        }
        #expect(process.text.contains("refused before the handler"))
        await emulator.stop()
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

    @Test func theSecretIsReadFromSecretsManagerWhenFirstNeeded() async throws {
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

        // A cursor the signature check must read the secret for (well-formed, not signed by it).
        func list(cursor: String? = nil) -> [UInt8] {
            let query = cursor.map { "cursor=\($0)" } ?? ""
            let event: JSONValue = [
                "version": "2.0", "routeKey": "GET /users", "rawPath": "/users", "rawQueryString": .string(query),
                "queryStringParameters": cursor.map { ["cursor": .string($0)] } ?? .null,
                "headers": [:], "isBase64Encoded": false,
                "requestContext": [
                    "http": ["method": "GET", "path": "/users", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"],
                    "requestId": "r", "stage": "$default", "routeKey": "GET /users", "authorizer": Self.admin,
                ],
            ]
            return event.serialized()
        }
        let forged = "e30.AAAA"

        let emulator = try await RuntimeAPIEmulator.start()
        let process = try launch(emulator, ["CURSOR_SECRET_ARN": withValue, "AWS_ENDPOINT_URL": moto.endpoint])
        let listed = await emulator.invoke(list())
        #expect(listed.responseJSON?["statusCode"] == 200, "\(listed) \(process.text)")
        let checked = await emulator.invoke(list(cursor: forged))
        #expect(
            checked.responseJSON?["statusCode"] == 400, "the secret was fetched and checks the signature: \(checked)")
        process.terminate()
        await emulator.stop()

        // A secret without a value yet: the process starts, routes without cursors answer, a
        // request that needs the secret is a 500 with its cause logged, and the next one retries.
        let unset = try await RuntimeAPIEmulator.start()
        let second = try launch(unset, ["CURSOR_SECRET_ARN": withoutValue, "AWS_ENDPOINT_URL": moto.endpoint])
        defer { second.terminate() }
        #expect(await unset.initError == nil)
        #expect(await unset.invoke(list()).responseJSON?["statusCode"] == 200, "no cursor, no secret needed")
        let failed = await unset.invoke(list(cursor: forged))
        #expect(failed.responseJSON?["statusCode"] == 500, "\(failed)")
        #expect(try JSONValue.parse(Array((failed.responseJSON?["body"]?.stringValue ?? "").utf8))["status"] == 500)
        _ = try await secrets.send(
            "PutSecretValue",
            body: (["SecretId": .string(withoutValue), "SecretString": "set-after-the-process-started-0123456789"]
                as JSONValue)
                .serialized(), timeout: .seconds(5))
        let retried = await unset.invoke(list(cursor: forged))
        #expect(retried.responseJSON?["statusCode"] == 400, "the next request fetched the secret: \(retried)")
        #expect(second.text.contains("the cursor secret is unavailable"), "the cause is logged: \(second.text)")
        await unset.stop()
        await secrets.shutdown()
        await db.shutdown()
        await moto.stop()
    }
}
