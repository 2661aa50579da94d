import Foundation
import HTTPAPI
import JSONCoding
import LambdaRuntime
import LambdaTesting
import LocalGateway
import Synchronization

/// A packaged `bootstrap` running as Lambda runs it: its own process, talking to a Runtime API
/// emulator, configured only through the environment Lambda and Terraform give it.
final class PackagedFunction: Sendable {
    struct FunctionError: Error, CustomStringConvertible {
        let description: String
    }

    let emulator: RuntimeAPIEmulator
    let pid: Int32

    static func start(
        bootstrap: String, declaration: ServiceDeclaration, dynamodbPort: Int
    ) async throws -> PackagedFunction {
        let service = declaration.name
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            throw FunctionError(
                description: "no packaged bootstrap at \(bootstrap): run make package SERVICE=\(service)")
        }
        let emulator = try await RuntimeAPIEmulator.start()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bootstrap)
        // Not AWS_LAMBDA_FUNCTION_NAME: that says "deployed", where the bootstrap reads its secrets
        // from Secrets Manager only (ServiceSecrets); here they come from the environment.
        var environment = [
            "AWS_LAMBDA_RUNTIME_API": emulator.endpoint.replacingOccurrences(of: "http://", with: ""),
            "AWS_REGION": "local", "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:\(dynamodbPort)",
            "CURSOR_SECRET": LocalAPI.cursorSecret, "LOG_LEVEL": "ERROR",
            // What modules/infrastructure sets from service.json: where the integration streams
            // (`make run` streams every route declared streamed) and who may call which route.
            "STREAMING_ROUTES": declaration.streamedRoutes.sorted().joined(separator: ","),
            RouteAccess.environmentName: RouteAccess(declaration: declaration).environmentValue,
        ]
        // ci/contract-mutation.sh's hook, honoured by debug bootstraps only (HTTPLambdaHandler).
        if let mutation = ProcessInfo.processInfo.environment["CONTRACT_MUTATION"] {
            environment["CONTRACT_MUTATION"] = mutation
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return PackagedFunction(emulator: emulator, pid: process.processIdentifier)
    }

    private init(emulator: RuntimeAPIEmulator, pid: Int32) {
        self.emulator = emulator
        self.pid = pid
    }

    func invoke(_ event: JSONValue) async throws -> [UInt8] { try await invoke(event.serialized()) }

    /// The function's answer as a buffered response document; a streamed one read back from its
    /// prelude and body (the emulator takes the whole stream before answering).
    func invoke(_ event: [UInt8]) async throws -> [UInt8] {
        switch await emulator.invoke(event) {
        case .response(let bytes): return bytes
        case .streamed(let contentType, let body, nil):
            return try LocalGateway.document(
                streamed: body, contentType: contentType ?? "", event: event)
        case .streamed(_, _, let error?):
            throw FunctionError(
                description:
                    "the stream ended with \(error.type): \(error.document["errorMessage"]?.stringValue ?? error.document.jsonString)"
            )
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

/// `local-api --artifact DIR`: a service served by its packaged `bootstrap`, like Lambda: a warm
/// process per concurrent request, started on demand (a cold start) and reused after. When the
/// bootstrap file changes (`make package`, watch mode), idle processes are retired and the next
/// request starts the new build.
final class ArtifactPool: LambdaHandler {
    let bootstrap: String
    let declaration: ServiceDeclaration
    let dynamodbPort: Int
    private let state = Mutex<(idle: [PackagedFunction], version: Double)>(([], 0))

    init(bootstrap: String, declaration: ServiceDeclaration, dynamodbPort: Int) throws {
        guard FileManager.default.isExecutableFile(atPath: bootstrap) else {
            throw PackagedFunction.FunctionError(
                description: "no packaged bootstrap at \(bootstrap): run make package SERVICE=\(declaration.name)")
        }
        self.bootstrap = bootstrap
        self.declaration = declaration
        self.dynamodbPort = dynamodbPort
        state.withLock { $0.version = Self.modified(bootstrap) }
    }

    static func modified(_ path: String) -> Double {
        let date = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
        return date?.timeIntervalSince1970 ?? 0
    }

    func handle(_ event: [UInt8], context: LambdaContext) async throws -> [UInt8] {
        let version = Self.modified(bootstrap)
        let (warm, retired) = state.withLock { state -> (PackagedFunction?, [PackagedFunction]) in
            if state.version != version {
                defer { state = ([], version) }
                return (nil, state.idle)
            }
            return (state.idle.popLast(), [])
        }
        for function in retired { await function.stop() }
        let function: PackagedFunction
        if let warm {
            function = warm
        } else {
            function = try await PackagedFunction.start(
                bootstrap: bootstrap, declaration: declaration, dynamodbPort: dynamodbPort)
        }
        do {
            let answer = try await function.invoke(event)
            state.withLock { $0.idle.append(function) }
            return answer
        } catch {
            await function.stop()
            throw error
        }
    }

    func stop() async {
        for function in state.withLock({ state in
            defer { state.idle = [] }
            return state.idle
        }) {
            await function.stop()
        }
    }
}
