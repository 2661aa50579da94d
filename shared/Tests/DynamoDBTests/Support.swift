import Foundation
import ServiceTesting

/// Paths and processes the DynamoDB tests share: the project's Python (with botocore, boto3 and
/// moto from ci/requirements.txt) and servers they start and stop.
enum TestSupport {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func tool(_ name: String) -> String { MotoServer.tool(name) }

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

    static func kill9(_ process: Process) async { await Loopback.kill9(process) }

    static func freePort() -> Int { Loopback.freePort() }

    static func waitForPort(_ port: Int, seconds: Double = 30) async throws {
        try await Loopback.waitForPort(port, seconds: seconds)
    }
}
