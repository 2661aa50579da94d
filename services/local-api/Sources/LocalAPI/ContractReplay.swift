import AWSCore
import ContractTesting
import DynamoDB
import DynamoDBModel
import Foundation
import HTTPAPI
import JSONCoding
import LambdaTesting
import LocalGateway

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

    /// What API Gateway's authorizer answers for a recorded event, from the route as service.json
    /// declares it now: 401 without verified claims, 403 without one of the route's scopes; nil when
    /// the event reaches the function. So a route that loses its authorizer fails its corpus. The
    /// HTTP API's JWT authorizer and the REST API's Lambda authorizer answer in their own words.
    static func authorizerRefusal(_ event: JSONValue, _ declaration: ServiceDeclaration) -> [UInt8]? {
        guard let key = ContractScenario.routeKey(of: event), let route = declaration.routes[key],
            route.authorization?.uppercased() == "JWT"
        else { return nil }
        let authorizer = event["requestContext"]?["authorizer"]
        // A REST API (its stages are named; an HTTP API's is $default) with the project's Lambda
        // authorizer: principalId and the claims as context.
        if event["version"] == "1.0", let stage = event["requestContext"]?["stage"], stage != "$default" {
            guard let context = authorizer, context["sub"]?.stringValue != nil else {
                return RESTStage.unauthorized.lambdaResponse
            }
            let granted = Set((context["scope"]?.stringValue ?? "").split(separator: " ").map(String.init))
            let required = route.scopes ?? []
            if !required.isEmpty, !required.contains(where: granted.contains) {
                return RESTStage.explicitlyDenied.lambdaResponse
            }
            return nil
        }
        // Payload 2.0 nests the claims under `jwt`; 1.0 events from an HTTP API carry them directly.
        let jwt = authorizer?["jwt"] ?? authorizer
        guard let claims = jwt?["claims"]?.objectValue, claims["sub"] != nil else {
            return Array(
                #"{"statusCode":401,"headers":{"content-type":"application/json","www-authenticate":"Bearer"},"body":"{\"message\":\"Unauthorized\"}"}"#
                    .utf8)
        }
        let granted = Set(jwt?["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let required = route.scopes ?? []
        if !required.isEmpty, !required.contains(where: granted.contains) {
            return Array(
                #"{"statusCode":403,"headers":{"content-type":"application/json"},"body":"{\"message\":\"Forbidden\"}"}"#
                    .utf8)
        }
        return nil
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
