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
        authorizer: JWTAuthorizer? = nil, accessLog: (@Sendable (String) -> Void)? = nil, defaultService: String? = nil
    ) async throws -> Running {
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
            try await declaration.createTables(db)
            if let artifacts {
                let pool = try ArtifactPool(
                    bootstrap: "\(artifacts)/\(name)/bootstrap", service: name, dynamodbPort: boundDynamoDB)
                pools.append(pool)
                services.append(LocalGateway.Service(declaration: declaration, handler: pool))
            } else {
                services.append(
                    LocalGateway.Service(
                        declaration: declaration, handler: HTTPLambdaHandler(router: router(name, db: db))))
            }
        }
        let gateway = try LocalGateway(
            services: services, payloadVersion: payloadVersion, settings: stage, authorizer: authorizer,
            accessLog: accessLog, defaultService: defaultService,
            observer: record.map { recorder(root: root, scenario: $0) })
        let boundGateway = try await gateway.start(port: gatewayPort)
        return Running(
            gateway: gateway, dynamodb: dynamodb, gatewayPort: boundGateway, dynamodbPort: boundDynamoDB, pools: pools)
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
            preconditionFailure("no service named \(name) is registered (services/local-api/Sources/LocalAPI/Registry.swift)")
        }
        return service.init(context: ServiceContext(db: db, cursorSecret: cursorSecret)).router
    }
}
