import AWSCore
import DynamoDB
import HTTPAPI
import Items
import LambdaRuntime
import LocalDynamoDB
import LocalGateway
import ServiceKit
import Users

/// Every service of the repository, wired for a local run. Adding a service means adding it here.
public enum LocalAPI {
    public static let serviceNames = ["users", "items"]

    public struct Running: Sendable {
        public let gateway: LocalGateway
        public let dynamodb: LocalDynamoDB
        public let gatewayPort: Int
        public let dynamodbPort: Int

        public func stop() async {
            await gateway.stop()
            await dynamodb.stop()
        }
    }

    /// Starts the local DynamoDB (tables from each service.json), then the gateway in front of
    /// the services' handlers, in-process.
    public static func start(root: String, gatewayPort: Int, dynamodbPort: Int, database: String) async throws
        -> Running
    {
        let dynamodb = try LocalDynamoDB(path: database)
        let boundDynamoDB = try await dynamodb.start(port: dynamodbPort)
        let db = try DynamoDBClient(
            environment: AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: "local", secretAccessKey: "local"), region: "local"),
            endpoint: "http://127.0.0.1:\(boundDynamoDB)")
        var services: [LocalGateway.Service] = []
        for name in serviceNames {
            let declaration = try ServiceDeclaration.load(path: "\(root)/services/\(name)/service.json")
            try await declaration.createTables(db)
            services.append(
                LocalGateway.Service(declaration: declaration, handler: HTTPLambdaHandler(router: router(name, db: db)))
            )
        }
        let gateway = try LocalGateway(services: services)
        let boundGateway = try await gateway.start(port: gatewayPort)
        return Running(gateway: gateway, dynamodb: dynamodb, gatewayPort: boundGateway, dynamodbPort: boundDynamoDB)
    }

    static func router(_ name: String, db: DynamoDBClient) -> Router {
        let secret = "local-cursor-secret"
        switch name {
        case "users": return UsersAPI(db: db, table: "users", cursorSecret: secret).router
        case "items": return ItemsAPI(db: db, table: "items", cursorSecret: secret).router
        default: preconditionFailure("no router registered for \(name)")
        }
    }
}
