import AWSCore
import DynamoDB
import HTTPAPI
import JSONCoding
import LambdaRuntime
import LocalDynamoDB
import Logging
import Platform
import ServiceKit

/// A service under test: its router on a fresh DynamoDB (the local one in memory, or moto) whose
/// tables come from the service's own `service.json`, called with HTTP requests in-process.
public final class ServiceFixture: Sendable {
    /// Where the service's data lives in a test.
    public enum Backend: String, CaseIterable, Sendable {
        case local, moto
    }

    public let declaration: ServiceDeclaration
    public let db: DynamoDBClient
    public let router: Router
    let local: LocalDynamoDB?
    let moto: MotoServer?

    public struct Reply: Sendable {
        public var status: Int
        public var json: JSONValue
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    /// `makeRouter` receives the client; tables carry their declared names.
    public init(declarationPath: String, backend: Backend = .local, makeRouter: (DynamoDBClient) -> Router) async throws
    {
        declaration = try ServiceDeclaration.load(path: declarationPath)
        let endpoint: String
        switch backend {
        case .local:
            let local = try LocalDynamoDB(path: ":memory:")
            // Sweeps only when a test asks (sweepExpired): until then expired items are there, as
            // in DynamoDB for up to days, so what hides them is the service's own reads.
            endpoint = "http://127.0.0.1:\(try await local.start(port: 0, sweepInterval: .seconds(86_400)))"
            self.local = local
            moto = nil
        case .moto:
            let moto = try await MotoServer.start()
            endpoint = moto.endpoint
            self.moto = moto
            local = nil
        }
        db = try DynamoDBClient(
            environment: AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: "test", secretAccessKey: "test"), region: "us-east-1"),
            endpoint: endpoint)
        try await declaration.createTables(db)
        router = makeRouter(db)
    }

    public func stop() async {
        await db.shutdown()
        await local?.stop()
        await moto?.stop()
    }

    /// Removes expired items now, as the local DynamoDB's background sweeper would.
    public func sweepExpired() async throws { try await local?.sweepExpired() }

    /// A signed-in caller as API Gateway's JWT authorizer passes it on: the token's subject and scopes.
    public struct Identity: Sendable {
        public var subject: String
        public var scopes: [String]

        public init(_ subject: String, scopes: [String]) {
            self.subject = subject
            self.scopes = scopes
        }

        public var authorizer: Authorizer {
            .jwt(claims: ["sub": .string(subject), "scope": .string(scopes.joined(separator: " "))], scopes: scopes)
        }
    }

    /// Calls the service as deployed: RouteAccess, the check HTTPLambdaHandler runs before any
    /// handler, refuses a route declared `"authorization": "JWT"` to a caller without an identity
    /// (401) or without one of its scopes (403), as the gateway's authorizer does first.
    public func call(
        _ method: String, _ path: String, _ body: String? = nil, headers: HTTPHeaders = [:], as identity: Identity?
    ) async -> Reply {
        let routePath = String(path.split(separator: "?", maxSplits: 1)[0])
        if case .route(let key, _, _) = router.match(method: method, path: routePath),
            let refusal = RouteAccess(declaration: declaration).refusal(
                of: HTTPRequest(method: method, rawPath: routePath, authorizer: identity?.authorizer), route: key)
        {
            let response = refusal.response
            return Reply(
                status: response.status, json: (try? JSONValue.parse(response.body)) ?? .null,
                headers: response.headers, body: response.body)
        }
        return await call(method, path, body, headers: headers, authorizer: identity?.authorizer)
    }

    public func call(
        _ method: String, _ path: String, _ body: String? = nil, headers: HTTPHeaders = [:],
        authorizer: Authorizer? = nil
    ) async -> Reply {
        let parts = path.split(separator: "?", maxSplits: 1)
        var allHeaders = headers
        if body != nil, !allHeaders.contains("content-type") { allHeaders.add("content-type", "application/json") }
        let request = HTTPRequest(
            method: method, rawPath: String(parts[0]), rawQueryString: parts.count > 1 ? String(parts[1]) : "",
            headers: allHeaders,
            body: Array((body ?? "").utf8), authorizer: authorizer)
        let context = LambdaContext(
            requestID: "test-request", deadlineMilliseconds: WallClock.nowMilliseconds() + 10_000,
            invokedFunctionARN: "arn:aws:lambda:us-east-1:000000000000:function:\(declaration.name)",
            logger: Logger(label: "test"))
        let response = await router.respond(to: request, context: context)
        return Reply(
            status: response.status, json: (try? JSONValue.parse(response.body)) ?? .null, headers: response.headers,
            body: response.body)
    }

    /// Runs `body` with a fixture of `service`, built as the bootstrap builds it (a test cursor secret).
    public static func with<Service: HTTPService>(
        _ service: Service.Type, declarationPath: String, backend: Backend = .local,
        _ body: (ServiceFixture) async throws -> Void
    ) async throws {
        try await with(
            declarationPath: declarationPath, backend: backend,
            makeRouter: { Service(context: ServiceContext(db: $0, cursorSecret: "test-cursor-secret")).router }, body)
    }

    /// Runs `body` with a fixture, stopping it whatever happens.
    public static func with(
        declarationPath: String, backend: Backend = .local, makeRouter: (DynamoDBClient) -> Router,
        _ body: (ServiceFixture) async throws -> Void
    ) async throws {
        let fixture = try await ServiceFixture(
            declarationPath: declarationPath, backend: backend, makeRouter: makeRouter)
        do { try await body(fixture) } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }
}
