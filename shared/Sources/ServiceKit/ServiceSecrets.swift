import AWSCore
import HTTPAPI
import JSONCoding
import LambdaRuntime
import Platform
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a service's secrets come from, decided at init and failing closed:
///
/// - `<NAME>_ARN` set (what Terraform gives a deployed function): the value from AWS Secrets
///   Manager, over the same SigV4 JSON client as DynamoDB, fetched when a request first needs it
///   (`LazySecret`), not before the first event. The value is never in the function's environment,
///   Terraform's state or a plan.
/// - under Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) without it: an error, so init posts
///   `/init/error`; there is no built-in default.
/// - outside Lambda: `<NAME>` from the environment (the local gateway's packaged functions), else
///   a development secret generated once into `.local/` (git-ignored).
public enum ServiceSecrets {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    public static func source(
        of name: String, environment: [String: String] = ProcessEnvironment.current(),
        developmentDirectory: String = ".local"
    ) throws -> LazySecret {
        if let arn = environment["\(name)_ARN"], !arn.isEmpty {
            let client = try SecretsManager(environment: try AWSEnvironment.load(environment))
            return LazySecret(name: name) { try await client.secretString(arn) }
        }
        if environment["AWS_LAMBDA_FUNCTION_NAME"] != nil {
            throw Missing(
                description:
                    "\(name)_ARN is not set: a deployed function reads \(name) from Secrets Manager (modules/infrastructure sets \(name)_ARN)"
            )
        }
        if let value = environment[name], !value.isEmpty { return .fixed(value) }
        return .fixed(try development(name, directory: developmentDirectory))
    }

    /// A random development secret kept in `<directory>/<name>` (created on first use, mode 0600),
    /// so every local process of one checkout signs alike and no secret is written in the source.
    public static func development(_ name: String, directory: String = ".local") throws -> String {
        let path = "\(directory)/\(String(name.lowercased().map { $0 == "_" ? "-" : $0 }))"
        if let existing = try? FileBytes.read(path), existing.count >= 32 {
            return String(decoding: existing, as: UTF8.self)
        }
        mkdir(directory, 0o700)
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in hex2(UInt8.random(in: 0...255, using: &generator)) }.joined()
        // Written to a temporary name and renamed, so concurrent first uses agree on one value.
        let temporary = "\(path).\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else {
            throw Missing(description: "cannot write the development secret \(path): is \(directory) writable?")
        }
        _ = Array(secret.utf8).withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        if link(temporary, path) != 0 {
            unlink(temporary)
            return String(decoding: try FileBytes.read(path), as: UTF8.self)
        }
        unlink(temporary)
        return secret
    }

    private static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}

/// A secret fetched when first needed and kept for the life of the process. Concurrent first uses
/// share one fetch; a failed fetch is not kept, so the next use tries again.
public final class LazySecret: Sendable {
    public let name: String
    private let fetch: @Sendable () async throws -> String

    private enum State {
        case unfetched
        case fetching(Task<String, any Error>)
        case fetched(String)
    }
    private let state: Mutex<State>

    public init(name: String, fetch: @escaping @Sendable () async throws -> String) {
        self.name = name
        self.fetch = fetch
        state = Mutex(.unfetched)
    }

    private init(name: String, value: String) {
        self.name = name
        fetch = { value }
        state = Mutex(.fetched(value))
    }

    /// A value known from the start (tests, local runs).
    public static func fixed(_ value: String) -> LazySecret { LazySecret(name: "fixed", value: value) }

    public func value() async throws -> String {
        enum Next {
            case known(String)
            case wait(Task<String, any Error>)
        }
        let next: Next = state.withLock { state in
            switch state {
            case .fetched(let value): return .known(value)
            case .fetching(let task): return .wait(task)
            case .unfetched:
                let started = Task { try await fetch() }
                state = .fetching(started)
                return .wait(started)
            }
        }
        let task: Task<String, any Error>
        switch next {
        case .known(let value): return value
        case .wait(let pending): task = pending
        }
        do {
            let value = try await task.value
            state.withLock { $0 = .fetched(value) }
            return value
        } catch {
            state.withLock { if case .fetching(let current) = $0, current == task { $0 = .unfetched } }
            throw error
        }
    }
}

/// Secrets Manager's `GetSecretValue`.
struct SecretsManager: Sendable {
    let service: AWSJSONService

    init(environment: AWSEnvironment) throws {
        service = try AWSJSONService(
            endpoint: environment.endpoint(service: "secretsmanager", serviceID: "SECRETS_MANAGER"),
            signingName: "secretsmanager", targetPrefix: "secretsmanager", jsonVersion: "1.1",
            credentials: environment.credentials, region: environment.region)
    }

    func secretString(_ id: String) async throws -> String {
        let body = JSONValue.object(["SecretId": .string(id)]).serialized()
        let sent: Result<TransportResponse, any Error>
        let start = WallClock.nowMicroseconds()
        do { sent = .success(try await service.send("GetSecretValue", body: body, timeout: .seconds(5))) } catch {
            sent = .failure(error)
        }
        // Inside an invocation, the call is part of its trace.
        LambdaContext.current?.telemetry.record(
            .init(
                service: "SecretsManager", operation: "GetSecretValue", startMicroseconds: start,
                endMicroseconds: WallClock.nowMicroseconds(), status: try? sent.get().status))
        await service.shutdown()  // one successful call per process: no connection to keep
        let response = try sent.get()
        let document = try? JSONValue.parse(response.body)
        guard response.status == 200 else {
            let type =
                response.header("x-amzn-errortype") ?? document?["__type"]?.stringValue ?? "HTTP \(response.status)"
            let message = document?["message"]?.stringValue ?? document?["Message"]?.stringValue ?? ""
            throw ServiceSecrets.Missing(
                description: "Secrets Manager refused GetSecretValue for \(id): \(type) \(message)")
        }
        guard let value = document?["SecretString"]?.stringValue, !value.isEmpty else {
            throw ServiceSecrets.Missing(
                description: "secret \(id) has no SecretString value yet: run `make deploy` (it sets new secrets)")
        }
        return value
    }
}
