import Foundation
import HTTPAPI
import JSONCoding
import JWT
import LambdaRuntime
import LambdaTesting
import LocalAPI
import LocalGateway
import RESTAuthorizer
import Synchronization
import Testing

/// `make run API=rest` over real HTTP: the same services and CRUD behaviour as under the HTTP API,
/// with REST's answers around them (Missing Authentication Token, the Lambda authorizer's 401 and
/// 403, 413/502/504 bodies) and `requestContext.authorizer` as a REST Lambda authorizer fills it.
@Suite(.serialized) struct RESTModeTests {
    let http = LocalAPITests()

    @Test func crudAndAuthorizationBehaveAsUnderTheHTTPAPI() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try LocalAPITests.authorizer(), api: "rest")
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            #expect(running.gateway.apiType == "REST API")
            let ada = ["authorization": try LocalAPITests.bearer("ada")]
            let created = try await http.send(
                "POST", "\(base)/users", #"{"email":"ada@example.com","name":"Ada"}"#, headers: ada)
            #expect(created.status == 201, "\(created.json)")
            #expect(
                created.json["id"] == "ada",
                "the caller is the authorizer's principal, read from requestContext.authorizer")
            #expect(try await http.send("GET", "\(base)/users/ada", headers: ada).json["email"] == "ada@example.com")
            let patched = try await http.send(
                "PATCH", "\(base)/users/ada", #"{"name":"Ada L."}"#, headers: ["if-match": "\"1\""].merging(ada) { $1 })
            #expect(patched.status == 200 && patched.headers["etag"] == "\"2\"")
            let item = try await http.send("POST", "\(base)/items", #"{"title":"Walk"}"#, headers: ada)
            #expect(item.status == 201 && item.json["owner"] == "ada")
            let itemID = try #require(item.json["id"]?.stringValue)
            #expect(try await http.send("GET", "\(base)/items", headers: ada).json["items"]?.arrayValue?.count == 1)
            #expect(try await http.send("DELETE", "\(base)/items/\(itemID)", headers: ada).status == 204)
            #expect(try await http.send("GET", "\(base)/items/\(itemID)", headers: ada).status == 404)

            // Tenant isolation holds: another caller reaches neither ada nor her items.
            let bob = ["authorization": try LocalAPITests.bearer("bob")]
            #expect(try await http.send("GET", "\(base)/users/ada", headers: bob).status == 404)

            // The authorizer's answers.
            let anonymous = try await http.send("POST", "\(base)/items", #"{"title":"x"}"#)
            #expect(anonymous.status == 401 && anonymous.json == ["message": "Unauthorized"])
            let forged = try await http.send("GET", "\(base)/items", headers: ["authorization": "Bearer forged"])
            #expect(forged.status == 401 && forged.json == ["message": "Unauthorized"])
            let readOnly = ["authorization": try LocalAPITests.bearer("ada", scope: "items.read")]
            let denied = try await http.send("POST", "\(base)/items", #"{"title":"x"}"#, headers: readOnly)
            #expect(denied.status == 403)
            #expect(denied.json == ["Message": "User is not authorized to access this resource with an explicit deny"])
            #expect(
                try await http.send("GET", "\(base)/users", headers: ada).status == 403,
                "listing users takes users.admin")

            // REST's answer to an unknown resource or method, signed in or not.
            for (method, path) in [("GET", "/nowhere"), ("PUT", "/users"), ("DELETE", "/items")] {
                let unknown = try await http.send(method, base + path, headers: ada)
                #expect(
                    unknown.status == 403 && unknown.json == ["message": "Missing Authentication Token"],
                    "\(method) \(path)")
                #expect(unknown.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException")
            }
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    /// An authorizer that counts its invocations.
    final class Counting: LambdaHandler {
        let inner: RequestAuthorizer
        let calls = Mutex(0)
        init(_ inner: RequestAuthorizer) { self.inner = inner }
        func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
            calls.withLock { $0 += 1 }
            return try await inner.handle(event, context: context)
        }
        var count: Int { calls.withLock { $0 } }
    }

    /// A gateway in front of an echo service answering with the event it got (or misbehaving on
    /// /broken and /slow), its JWT routes behind the project's authorizer.
    func echoGateway(ttl: Int) async throws -> (LocalGateway, Counting, String) {
        let declaration = try JSON.decodeStrict(
            ServiceDeclaration.self,
            from: try JSONValue.parse(
                #"{"name":"echo","function":{"memory":128,"timeout":3,"architecture":"x86_64"},"routes":{"GET /echo/{id}":{"authorization":"JWT","scopes":["users.read"]},"POST /upload":{},"GET /broken":{},"GET /slow":{"timeoutMilliseconds":50},"GET /keyed":{"apiKeyRequired":true}}}"#
            ))
        let handler = ClosureHandler { event, _ in
            let request = try JSONValue.parse(event)
            switch request["resource"]?.stringValue {
            case "/broken": return Array(#"{"statusCode":200,"body":{"not":"a string"}}"#.utf8)
            case "/slow":
                try await Task.sleep(for: .milliseconds(500))
                return Array(#"{"statusCode":200,"body":""}"#.utf8)
            default:
                let answer: JSONValue = ["statusCode": 200, "body": .string(request.jsonString)]
                return answer.serialized()
            }
        }
        let keys = try LocalAPITests.authorizer().keys
        let stage = try StageSettings.load(root: repositoryRoot, environment: "staging")
        let configuration = AuthorizerConfiguration(
            issuer: stage.jwtIssuer!, audiences: stage.jwtAudiences, routeScopes: ["GET /echo/{id}": ["users.read"]])
        let authorizer = Counting(RequestAuthorizer(configuration: configuration, keys: JWKSKeys(fixed: keys)))
        let gateway = try LocalGateway(
            services: [.init(declaration: declaration, handler: handler)], payloadVersion: "1.0",
            rest: RESTStage(authorizer: authorizer, authorizerTTLSeconds: ttl))
        let port = try await gateway.start(port: 0)
        return (gateway, authorizer, "http://127.0.0.1:\(port)")
    }

    @Test func theAuthorizerFillsRequestContextAndIsCachedPerTokenAndRoute() async throws {
        let (gateway, authorizer, base) = try await echoGateway(ttl: 300)
        defer { Task { await gateway.stop() } }
        let token = try LocalAPITests.bearer("ada", scope: "users.read")
        let first = try await http.send(
            "GET", "\(base)/echo/one?x=1&x=2", headers: ["authorization": token, "x-multi": "a"])
        #expect(first.status == 200)
        let event = first.json
        let context = try #require(event["requestContext"]?["authorizer"])
        #expect(context["principalId"] == "ada")
        #expect(context["sub"] == "ada")
        #expect(context["scope"] == "users.read")
        #expect(context["exp"]?.stringValue != nil, "context values reach the integration as strings")
        if case .number = context["integrationLatency"] {
        } else {
            Issue.record("integrationLatency is a number: \(context)")
        }
        #expect(
            event["version"] == "1.0" && event["resource"] == "/echo/{id}" && event["pathParameters"]?["id"] == "one")
        #expect(event["multiValueQueryStringParameters"]?["x"] == ["1", "2"])
        #expect(event["multiValueHeaders"]?["x-multi"] == ["a"] || event["multiValueHeaders"]?["X-Multi"] == ["a"])
        #expect(authorizer.count == 1)
        // Same token, same route (another id): the cached answer, whose policy covers /echo/*.
        #expect(try await http.send("GET", "\(base)/echo/two", headers: ["authorization": token]).status == 200)
        #expect(authorizer.count == 1)
        // Another token: the authorizer again.
        let other = try LocalAPITests.bearer("bob", scope: "users.read")
        #expect(try await http.send("GET", "\(base)/echo/one", headers: ["authorization": other]).status == 200)
        #expect(authorizer.count == 2)
        // No Authorization header: 401 from API Gateway itself, the function is not called.
        #expect(try await http.send("GET", "\(base)/echo/one").status == 401)
        #expect(authorizer.count == 2)
    }

    @Test func withoutACacheEveryRequestIsAuthorized() async throws {
        let (gateway, authorizer, base) = try await echoGateway(ttl: 0)
        defer { Task { await gateway.stop() } }
        let token = try LocalAPITests.bearer("ada", scope: "users.read")
        for _ in 0..<3 {
            #expect(try await http.send("GET", "\(base)/echo/one", headers: ["authorization": token]).status == 200)
        }
        #expect(authorizer.count == 3)
    }

    @Test func restsOwnErrorBodies() async throws {
        let (gateway, _, base) = try await echoGateway(ttl: 300)
        defer { Task { await gateway.stop() } }
        let broken = try await http.send("GET", "\(base)/broken")
        #expect(
            broken.status == 502 && broken.json == ["message": "Internal server error"], "a malformed proxy response")
        let slow = try await http.send("GET", "\(base)/slow")
        #expect(slow.status == 504 && slow.json == ["message": "Endpoint request timed out"])
        let keyless = try await http.send("GET", "\(base)/keyed")
        #expect(keyless.status == 403 && keyless.json == ["message": "Forbidden"], "apiKeyRequired without x-api-key")
        #expect(try await http.send("GET", "\(base)/keyed", headers: ["x-api-key": "k"]).status == 200)
        let large = String(repeating: "x", count: LocalGateway.maxBodyBytes + 1)
        let tooLarge = try await http.send("POST", "\(base)/upload", large)
        #expect(tooLarge.status == 413 && tooLarge.json == ["message": "Request Too Long"])
    }
}
