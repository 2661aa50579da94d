import AWSCore
import ContractTesting
import DynamoDB
import DynamoDBModel
import Foundation
import HTTPAPI
import JSONCoding
import LambdaTesting

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
                if let failure = try await replay(scenario, service: service, root: root, mode: mode) {
                    report.failures.append(failure)
                }
            }
        }
        return report
    }

    static func replay(_ scenario: ContractScenario, service: String, root: String, mode: Mode) async throws
        -> ContractFailure?
    {
        let running = try await LocalAPI.start(root: root, gatewayPort: 0, dynamodbPort: 0, database: ":memory:")
        defer { Task { await running.stop() } }
        try await seed(scenario, dynamodbPort: running.dynamodbPort)
        switch mode {
        case .inProcess:
            return await ContractRunner.run(scenario) { event in
                try await running.gateway.invoke(service: service, event: event.serialized())
            }
        case .artifact(let directory):
            let function = try await PackagedFunction.start(
                bootstrap: "\(directory)/\(service)/bootstrap", service: service, dynamodbPort: running.dynamodbPort)
            let failure = await ContractRunner.run(scenario) { event in try await function.invoke(event) }
            await function.stop()
            return failure
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
                for (name, value) in item.objectValue ?? JSONObject() { attributes[name] = try AttributeValue(wire: value) }
                try await db.putItem(table: table, item: attributes)
            }
        }
    }
}

/// A packaged `bootstrap` running as Lambda runs it: its own process, talking to a Runtime API
/// emulator, configured only through the environment Lambda and Terraform give it.
final class PackagedFunction: Sendable {
    struct FunctionError: Error, CustomStringConvertible {
        let description: String
    }

    let emulator: RuntimeAPIEmulator
    let pid: Int32

    static func start(bootstrap: String, service: String, dynamodbPort: Int) async throws -> PackagedFunction {
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            throw FunctionError(description: "no packaged bootstrap at \(bootstrap): run make package SERVICE=\(service)")
        }
        let emulator = try await RuntimeAPIEmulator.start()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bootstrap)
        process.environment = [
            "AWS_LAMBDA_RUNTIME_API": emulator.endpoint.replacingOccurrences(of: "http://", with: ""),
            "AWS_LAMBDA_FUNCTION_NAME": service, "AWS_REGION": "local", "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:\(dynamodbPort)",
            "CURSOR_SECRET": "contract-replay-cursor-secret", "LOG_LEVEL": "ERROR",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return PackagedFunction(emulator: emulator, pid: process.processIdentifier)
    }

    private init(emulator: RuntimeAPIEmulator, pid: Int32) {
        self.emulator = emulator
        self.pid = pid
    }

    func invoke(_ event: JSONValue) async throws -> [UInt8] {
        switch await emulator.invoke(event.serialized()) {
        case .response(let bytes): return bytes
        case .error(let type, let document), .initError(let type, let document):
            throw FunctionError(description: "\(type): \(document["errorMessage"]?.stringValue ?? document.jsonString)")
        }
    }

    /// SIGTERM as Lambda sends it, then reap (Foundation's waitUntilExit spins on Linux).
    func stop() async {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 where waitpid(pid, &status, WNOHANG) == 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        await emulator.stop()
    }
}
