import AWSCore
import ContractTesting
import DynamoDB
import HTTPAPI
import Items
import JSONCoding
import JWT
import LambdaRuntime
import LocalDynamoDB
import LocalGateway
import Platform
import RESTAuthorizer
import ServiceKit
import Users

public struct RegistrationError: Error, CustomStringConvertible {
    public let description: String
}

/// Every service of the repository (Registry.swift), wired for a local run.
public enum LocalAPI {
    public static var serviceNames: [String] { registered.map { $0.name } }

    public struct Running: Sendable {
        public let gateway: LocalGateway
        public let dynamodb: LocalDynamoDB
        public let gatewayPort: Int
        public let dynamodbPort: Int
        let pools: [ArtifactPool]

        public func stop() async {
            await gateway.stop()
            for pool in pools { await pool.stop() }
            await dynamodb.stop()
        }
    }

    /// Starts the local DynamoDB (tables from each service.json), then the gateway in front of
    /// the services' handlers, in-process. With `record`, every answered request is appended as a
    /// contract case to `services/<service>/contracts/<record>.json`.
    public static func start(
        root: String, gatewayPort: Int, dynamodbPort: Int, database: String, record: String? = nil,
        payloadVersion: String = "2.0", artifacts: String? = nil, stage: StageSettings = StageSettings(),
        authorizer: JWTAuthorizer? = nil, api: String = "http", accessLog: (@Sendable (String) -> Void)? = nil,
        defaultService: String? = nil, timings: (@Sendable (String) -> Void)? = nil, docs: APIDocs? = nil
    ) async throws -> Running {
        guard api == "http" || api == "rest" else {
            throw RegistrationError(description: "the API type is http or rest, not \(api)")
        }
        let dynamodb = try LocalDynamoDB(path: database)
        let boundDynamoDB = try await dynamodb.start(port: dynamodbPort)
        let db = try DynamoDBClient(
            environment: AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: "local", secretAccessKey: "local"), region: "local"),
            endpoint: "http://127.0.0.1:\(boundDynamoDB)")
        if let problem = registrationProblem(root: root) { throw RegistrationError(description: problem) }
        var services: [LocalGateway.Service] = []
        var pools: [ArtifactPool] = []
        for name in serviceNames {
            let declaration = try ServiceDeclaration.load(path: "\(root)/services/\(name)/service.json")
            // What Terraform would refuse, `make run` refuses too (a route without authorization...).
            let problems = declaration.validate()
            guard problems.isEmpty else {
                throw RegistrationError(
                    description: "services/\(name)/service.json: \(problems.joined(separator: "; "))")
            }
            try await declaration.createTables(db)
            if let artifacts {
                let pool = try ArtifactPool(
                    bootstrap: "\(artifacts)/\(name)/bootstrap", declaration: declaration, dynamodbPort: boundDynamoDB)
                pools.append(pool)
                services.append(LocalGateway.Service(declaration: declaration, handler: pool))
            } else {
                // `make run` streams every route declared streamed, as an integration that streams
                // would, and checks each route's access as a deployed function does.
                var handler = HTTPLambdaHandler(
                    router: router(name, db: db), streamingRoutes: declaration.streamedRoutes,
                    access: RouteAccess(declaration: declaration))
                #if DEBUG
                    handler.statusMutation = HTTPLambdaHandler.statusMutation(
                        ProcessEnvironment.current()["CONTRACT_MUTATION"])
                #endif
                services.append(LocalGateway.Service(declaration: declaration, handler: handler))
            }
        }
        let rest = api == "rest" ? restStage(services.map(\.declaration), verifying: authorizer, stage: stage) : nil
        // A REST API has no $default stage: its stages are named (deployed: after the environment).
        var gatewayStage = GatewayEvent.Stage()
        if rest != nil { gatewayStage.stage = "local" }
        let gateway = try LocalGateway(
            services: services, stage: gatewayStage, payloadVersion: rest == nil ? payloadVersion : "1.0",
            settings: stage,
            authorizer: authorizer, rest: rest, accessLog: accessLog, defaultService: defaultService,
            observer: record.map { recorder(root: root, scenario: $0) }, timings: timings, pages: docs.map { $0.answer }
        )
        let boundGateway = try await gateway.start(port: gatewayPort)
        return Running(
            gateway: gateway, dynamodb: dynamodb, gatewayPort: boundGateway, dynamodbPort: boundDynamoDB, pools: pools)
    }

    /// A REST API's stage: JWT routes behind the project's Lambda REQUEST authorizer, in-process,
    /// verifying what the HTTP API's JWT authorizer would (the environment's issuer and audiences,
    /// the local keys: the development key and any --jwks), each route's scopes from its
    /// service.json, answers cached for the environment's `rest.authorizer_ttl_seconds`.
    public static func restStage(
        _ declarations: [ServiceDeclaration], verifying verifier: JWTAuthorizer?, stage: StageSettings
    ) -> RESTStage {
        var scopes: [String: [String]] = [:]
        for declaration in declarations {
            for (key, route) in declaration.routes where route.authorization?.uppercased() == "JWT" {
                scopes[key] = route.scopes ?? []
            }
        }
        let configuration = AuthorizerConfiguration(
            issuer: verifier?.issuer ?? "https://local-api.invalid/", audiences: verifier?.audiences ?? [],
            routeScopes: scopes)
        let authorizer = RequestAuthorizer(configuration: configuration, keys: JWKSKeys(fixed: verifier?.keys ?? []))
        return RESTStage(authorizer: authorizer, authorizerTTLSeconds: stage.authorizerTTLSeconds)
    }

    /// Record mode: one recorder per service, each exchange written through at once.
    static func recorder(root: String, scenario: String) -> LocalGateway.Observer {
        let recorders = Dictionary(
            uniqueKeysWithValues: serviceNames.map {
                ($0, ContractRecorder(file: "\(root)/services/\($0)/contracts/\(scenario).json", name: scenario))
            })
        return { service, event, answer in
            guard let recorder = recorders[service], let event = try? JSONValue.parse(event) else { return }
            do { try recorder.record(event: event, answer: answer).write() } catch {
                print("local-api: recording failed: \(error)")
            }
        }
    }

    /// Signs cursors locally, in-process and in packaged bootstraps alike: a development secret
    /// generated once into .local/ (deployed functions read theirs from Secrets Manager).
    static let cursorSecret: String = {
        do { return try ServiceSecrets.development("CURSOR_SECRET") } catch { fatalError("\(error)") }
    }()

    static func router(_ name: String, db: DynamoDBClient) -> Router {
        guard let service = registered.first(where: { $0.name == name }) else {
            preconditionFailure(
                "no service named \(name) is registered (tools/local-api/Sources/LocalAPI/Registry.swift)")
        }
        return service.init(context: ServiceContext(db: db, cursorSecret: cursorSecret)).router
    }
}
