import Foundation
import HTTPAPI
import JSONCoding
import JWT
import LambdaRuntime
import LambdaTesting
import LocalAPI
import LocalGateway
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What the stage does around the functions, over real HTTP: CORS from the environment's
/// settings, binary bodies and cookies both ways, access log lines, and the packaged bootstraps
/// serving the same API (`--artifact`).
@Suite(.serialized) struct GatewayStageTests {
    func request(
        _ method: String, _ url: String, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.httpShouldHandleCookies = false
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return (http.statusCode, fields, data)
    }

    /// A gateway in front of one echo service: it answers with the request body (binary, base64
    /// in the event) and sets a cookie per cookie received.
    func echoGateway(
        settings: StageSettings, log: (@Sendable (String) -> Void)? = nil, authorizer: JWTAuthorizer? = nil
    ) async throws -> (LocalGateway, String) {
        let access = authorizer == nil ? #"{"authorization":"NONE","public":true}"# : #"{"authorization":"JWT"}"#
        let declaration = try JSON.decodeStrict(
            ServiceDeclaration.self,
            from: try JSONValue.parse(
                #"{"name":"echo","function":{"memory":128,"timeout":3,"architecture":"x86_64"},"routes":{"POST /echo":"#
                    + access + "}}"
            ))
        let handler = ClosureHandler { event, _ in
            let request = try JSONValue.parse(event)
            let cookies = request["cookies"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let answer: JSONValue = [
                "statusCode": 200,
                "headers": ["content-type": "application/octet-stream", "access-control-allow-origin": "*"],
                "cookies": .array(cookies.map { .string("seen-" + $0 + "; Path=/") }),
                "body": request["body"] ?? "", "isBase64Encoded": request["isBase64Encoded"] ?? false,
            ]
            return answer.serialized()
        }
        let gateway = try LocalGateway(
            services: [.init(declaration: declaration, handler: handler)], settings: settings, authorizer: authorizer,
            accessLog: log)
        let port = try await gateway.start(port: 0)
        return (gateway, "http://127.0.0.1:\(port)")
    }

    @Test func corsFollowsTheEnvironmentsConfiguration() async throws {
        let settings = try StageSettings.load(root: repositoryRoot, environment: "staging")
        let cors = try #require(settings.cors)
        let (gateway, base) = try await echoGateway(settings: settings)
        defer { Task { await gateway.stop() } }
        let origin = try #require(cors.allowOrigins.first)

        let preflight = try await request(
            "OPTIONS", "\(base)/echo",
            headers: [
                "origin": origin, "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            ])
        #expect(preflight.status == 204)
        #expect(preflight.headers["access-control-allow-origin"] == origin)
        #expect(preflight.headers["access-control-allow-methods"] == cors.allowMethods.joined(separator: ","))
        #expect(preflight.headers["access-control-max-age"] == String(cors.maxAge))

        let answered = try await request("POST", "\(base)/echo", body: Data("x".utf8), headers: ["origin": origin])
        #expect(answered.headers["access-control-allow-origin"] == origin, "the stage's CORS replaces the function's")
        #expect(answered.headers["access-control-expose-headers"] == cors.exposeHeaders.joined(separator: ","))

        let foreign = try await request(
            "POST", "\(base)/echo", body: Data("x".utf8), headers: ["origin": "https://evil.example"])
        #expect(foreign.headers["access-control-allow-origin"] == nil)
        let foreignPreflight = try await request(
            "OPTIONS", "\(base)/echo",
            headers: ["origin": "https://evil.example", "access-control-request-method": "POST"])
        #expect(foreignPreflight.status == 204 && foreignPreflight.headers["access-control-allow-origin"] == nil)
    }

    @Test func binaryBodiesAndCookiesTravelBothWays() async throws {
        let (gateway, base) = try await echoGateway(settings: StageSettings())
        defer { Task { await gateway.stop() } }
        let bytes = Data([0, 1, 2, 0xFE, 0xFF, 0x80, 0x0A])
        let answer = try await request(
            "POST", "\(base)/echo", body: bytes,
            headers: ["content-type": "application/octet-stream", "cookie": "session=abc; theme=dark"])
        #expect(answer.status == 200)
        #expect(answer.body == bytes, "a binary body arrives base64-encoded and goes back as the same bytes")
        let setCookie = try #require(answer.headers["set-cookie"])
        #expect(setCookie.contains("seen-session=abc; Path=/") && setCookie.contains("seen-theme=dark; Path=/"))
    }

    @Test func accessLogLinesUseTheStageFormatAndLeaveSecretsOut() async throws {
        let lines = Mutex<[String]>([])
        var settings = try StageSettings.load(root: repositoryRoot, environment: "staging")
        let (gateway, base) = try await echoGateway(
            settings: settings, log: { line in lines.withLock { $0.append(line) } })
        _ = try await request(
            "POST", "\(base)/echo", body: Data("x".utf8),
            headers: ["authorization": "Bearer secret-token-value", "cookie": "session=secret-cookie-value"])
        await gateway.stop()
        let json = try #require(lines.withLock { $0.first })
        let entry = try JSONValue.parse(json)
        #expect(entry["routeKey"] == "POST /echo" && entry["status"] == "200" && entry["httpMethod"] == "POST")
        #expect(!json.contains("secret-token-value") && !json.contains("secret-cookie-value"))

        settings.accessLogFormat = try JSONValue.parse(
            Array(
                try Data(
                    contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/modules/infrastructure/access-log-formats.json")
                ))
        )["clf"]?.stringValue
        let clfLines = Mutex<[String]>([])
        let (clfGateway, clfBase) = try await echoGateway(
            settings: settings, log: { line in clfLines.withLock { $0.append(line) } })
        _ = try await request("POST", "\(clfBase)/echo", body: Data("x".utf8))
        await clfGateway.stop()
        let clf = try #require(clfLines.withLock { $0.first })
        #expect(clf.hasPrefix("127.0.0.1 - - [") && clf.contains(#""POST /echo HTTP/1.1" 200 1 "#))
    }

    /// Abuse is attributable: each line names the caller the authorizer let through, as
    /// `$context.authorizer.claims.sub` (HTTP API JWT authorizer) or `$context.authorizer.principalId`
    /// (REST Lambda authorizer) do deployed
    /// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html);
    /// "-" where there is none.
    @Test func accessLogLinesNameTheCaller() async throws {
        let formats = try JSONValue.parse(
            Array(
                try Data(
                    contentsOf: URL(fileURLWithPath: "\(repositoryRoot)/modules/infrastructure/access-log-formats.json")
                )))
        for format in ["json", "clf"] {
            let lines = Mutex<[String]>([])
            var settings = try StageSettings.load(root: repositoryRoot, environment: "staging")
            settings.accessLogFormat = formats[format]?.stringValue
            let (gateway, base) = try await echoGateway(
                settings: settings, log: { line in lines.withLock { $0.append(line) } },
                authorizer: try LocalAPITests.authorizer())
            let signedIn = try await request(
                "POST", "\(base)/echo", body: Data("x".utf8),
                headers: ["authorization": try LocalAPITests.bearer("ada")])
            #expect(signedIn.status == 200)
            #expect(try await request("POST", "\(base)/echo", body: Data("x".utf8)).status == 401)
            await gateway.stop()
            let (first, second) = lines.withLock { ($0[0], $0[1]) }
            if format == "json" {
                #expect(try JSONValue.parse(first)["principal"] == "ada")
                #expect(try JSONValue.parse(second)["principal"] == "-")
            } else {
                #expect(first.hasPrefix("127.0.0.1 - ada ["), "\(first)")
                #expect(second.hasPrefix("127.0.0.1 - - ["), "\(second)")
            }
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "\(repositoryRoot)/.build/dist/users/bootstrap")))
    func packagedBootstrapsServeTheSameAPI() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            artifacts: "\(repositoryRoot)/.build/dist", authorizer: try LocalAPITests.authorizer())
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            let ada = try LocalAPITests.bearer("ada")
            let bob = try LocalAPITests.bearer("bob")
            async let first = request(
                "POST", "\(base)/users", body: Data(#"{"email":"a@example.com","name":"A"}"#.utf8),
                headers: ["content-type": "application/json", "authorization": ada])
            async let second = request(
                "POST", "\(base)/users", body: Data(#"{"email":"b@example.com","name":"B"}"#.utf8),
                headers: ["content-type": "application/json", "authorization": bob])
            let (a, b) = try await (first, second)
            #expect(a.status == 201 && b.status == 201, "concurrent requests each get a warm process")
            let id = try #require(try JSONValue.parse(Array(a.body))["id"]?.stringValue)
            let fetched = try await request("GET", "\(base)/users/\(id)", headers: ["authorization": ada])
            #expect(fetched.status == 200 && fetched.headers["etag"] == "\"1\"")
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }
}
