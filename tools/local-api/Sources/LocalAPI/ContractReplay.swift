import AWSCore
import ContractTesting
import DynamoDB
import DynamoDBModel
import Foundation
import HTTPAPI
import JSONCoding
import LocalGateway
import LoopbackHTTP

/// `make contract`: every service's corpus replayed against the handler in-process, or against the
/// packaged `bootstrap` (the artifact that would be deployed) under the Runtime API emulator. Each
/// scenario gets an empty in-memory DynamoDB with the service's tables.
public enum ContractReplay {
    public enum Mode: Sendable {
        case inProcess
        /// A directory holding `<service>/bootstrap`, as `make package` writes it.
        case artifact(String)
    }

    public struct Report: Sendable {
        public var scenarios = 0
        public var cases = 0
        public var failures: [ContractFailure] = []
        public var drift: [String] = []
    }

    public static func run(root: String, services: [String], mode: Mode) async throws -> Report {
        var report = Report()
        for service in services {
            let declaration = try ServiceDeclaration.load(path: "\(root)/services/\(service)/service.json")
            let scenarios = try ContractScenario.load(directory: "\(root)/services/\(service)/contracts")
            report.drift += ContractRunner.drift(
                declaredRoutes: Set(declaration.routes.keys), scenarios: scenarios, service: service)
            for scenario in scenarios {
                report.scenarios += 1
                report.cases += scenario.cases.count
                if let failure = try await replay(
                    scenario, service: service, declaration: declaration, root: root, mode: mode)
                {
                    report.failures.append(failure)
                }
            }
        }
        return report
    }

    static func replay(
        _ scenario: ContractScenario, service: String, declaration: ServiceDeclaration, root: String, mode: Mode
    ) async throws -> ContractFailure? {
        let running = try await LocalAPI.start(root: root, gatewayPort: 0, dynamodbPort: 0, database: ":memory:")
        defer { Task { await running.stop() } }
        try await seed(scenario, dynamodbPort: running.dynamodbPort)
        switch mode {
        case .inProcess:
            return await ContractRunner.run(scenario) { event in
                if let refusal = authorizerRefusal(event, declaration) { return refusal }
                return try await running.gateway.invoke(service: service, event: event.serialized())
            }
        case .artifact(let directory):
            let function = try await PackagedFunction.start(
                bootstrap: "\(directory)/\(service)/bootstrap", declaration: declaration,
                dynamodbPort: running.dynamodbPort)
            let failure = await ContractRunner.run(scenario) { event in
                if let refusal = authorizerRefusal(event, declaration) { return refusal }
                return try await function.invoke(event)
            }
            await function.stop()
            return failure
        }
    }

    /// What API Gateway's authorizer answers for a recorded event; nil when the event reaches the
    /// function. The decision is RouteAccess's, the check every deployed function runs before its
    /// handlers, on service.json as it is now (a route that loses its authorizer fails its corpus);
    /// the words are the authorizer's: the HTTP API's JWT authorizer, or on a REST API (its stages
    /// are named, an HTTP API's is $default) the project's Lambda authorizer.
    static func authorizerRefusal(_ event: JSONValue, _ declaration: ServiceDeclaration) -> [UInt8]? {
        guard let key = ContractScenario.routeKey(of: event), declaration.routes[key]?.authorization == "JWT",
            let request = try? HTTPRequest(event: event),
            let refusal = RouteAccess(declaration: declaration).refusal(of: request, route: key)
        else { return nil }
        let rest = event["version"] == "1.0" && event["requestContext"]?["stage"] != "$default"
        switch (refusal.status, rest) {
        case (401, true): return RESTStage.unauthorized.lambdaResponse
        case (_, true): return RESTStage.explicitlyDenied.lambdaResponse
        case (401, false): return GatewayEvent.unauthorized.lambdaResponse
        default: return GatewayEvent.forbidden.lambdaResponse
        }
    }

    static func seed(_ scenario: ContractScenario, dynamodbPort: Int) async throws {
        guard !scenario.seed.isEmpty else { return }
        let db = try DynamoDBClient(
            environment: AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: "local", secretAccessKey: "local"), region: "local"),
            endpoint: "http://127.0.0.1:\(dynamodbPort)")
        for (table, items) in scenario.seed {
            for item in items {
                var attributes: [String: AttributeValue] = [:]
                for (name, value) in item.objectValue ?? JSONObject() {
                    attributes[name] = try AttributeValue(wire: value)
                }
                try await db.putItem(table: table, item: attributes)
            }
        }
    }
}
