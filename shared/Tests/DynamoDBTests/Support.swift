import Foundation

/// Paths and processes the DynamoDB tests share: the project's Python (with botocore, boto3 and
/// moto from ci/requirements.txt) and servers they start and stop.
enum TestSupport {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `.venv/bin/<tool>` when `make test` built the venv, else the tool on PATH.
    static func tool(_ name: String) -> String {
        let venv = repositoryRoot.appendingPathComponent(".venv/bin/\(name)").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : name
    }

    static var python: String { tool("python") == "python" ? "python3" : tool("python") }

    struct CommandResult {
        var status: Int32
        var output: String
        var error: String
    }

    /// Runs a command to completion; stdin is `input`.
    @discardableResult
    static func run(_ arguments: [String], input: Data = Data(), environment: [String: String] = [:]) throws
        -> CommandResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        waitForExit(process)
        return CommandResult(
            status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            error: String(decoding: err, as: UTF8.self))
    }

    static func waitForExit(_ process: Process) {
        while process.isRunning { usleep(5_000) }
    }

    static func kill9(_ process: Process) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
    }

    /// A free loopback port (bound and released; good enough for a test's own servers).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(fd, $0, length) }
        }
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func waitForPort(_ port: Int, seconds: Double = 30) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CocoaError(
            .fileReadUnknown,
            userInfo: [NSLocalizedDescriptionKey: "nothing listened on 127.0.0.1:\(port) within \(seconds)s"])
    }
}

/// `moto_server` on a free loopback port, started and stopped by a test.
final class MotoServer: @unchecked Sendable {
    let process = Process()
    let port = TestSupport.freePort()
    var endpoint: String { "http://127.0.0.1:\(port)" }

    static func start() async throws -> MotoServer {
        let server = MotoServer()
        server.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.process.arguments = [TestSupport.tool("moto_server"), "-H", "127.0.0.1", "-p", String(server.port)]
        server.process.environment = ProcessInfo.processInfo.environment.merging([
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0",
        ]) { $1 }
        server.process.standardOutput = FileHandle.nullDevice
        server.process.standardError = FileHandle.nullDevice
        try server.process.run()
        do { try await TestSupport.waitForPort(server.port) } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// moto_server ignores SIGTERM; and Foundation's waitUntilExit spins on Linux, so poll.
    func stop() async { await TestSupport.kill9(process) }
}
