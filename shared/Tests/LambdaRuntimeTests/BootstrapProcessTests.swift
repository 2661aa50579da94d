import Foundation
import JSONCoding
import LambdaTesting
import Testing

/// The `minimal-bootstrap` executable as Lambda runs it: a separate process talking to the
/// Runtime API emulator.
@Suite struct BootstrapProcessTests {
    static var executable: String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // Swift Testing may run from inside an .xctest bundle directory.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent("minimal-bootstrap").path
    }

    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }

    func launch(_ environment: [String: String]) throws -> (Process, Output) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let pipe = Pipe()
        let output = Output()
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, output)
    }

    func waitForExit(_ process: Process, seconds: Double = 10) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    @Test func servesInvocationsLogsJSONAndFlushesOnSIGTERM() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        let (process, output) = try launch([
            "AWS_LAMBDA_RUNTIME_API": emulator.endpoint, "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_FUNCTION_NAME": "minimal",
        ])
        defer { if process.isRunning { process.terminate() } }
        var event = try JSONValue.parse(try httpEvent("GET", "/hello"))
        if case .object(var object) = event {
            object["rawQueryString"] = "name=Ada"
            event = .object(object)
        }
        let result = await emulator.invoke(event.serialized(), traceID: "Root=1-65f0-abc")
        let response = try #require(result.responseJSON)
        #expect(response["statusCode"] == 200)
        #expect(response["body"] == #"{"message":"hello Ada"}"#)

        kill(process.processIdentifier, SIGTERM)
        #expect(try await waitForExit(process) == 0)
        await emulator.stop()
        try await Task.sleep(for: .milliseconds(50))
        let lines = output.text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let hello = try #require(lines.first { $0["message"] == "saying hello" })
        #expect(hello["requestId"]?.stringValue?.isEmpty == false)
        #expect(hello["traceId"] == "Root=1-65f0-abc")
        #expect(hello["level"] == "INFO")
        #expect(lines.contains { $0["message"] == "SIGTERM received, shutting down" }, "\(output.text)")
    }

    @Test func initFailureIsReportedAndExitsNonZero() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        let (process, output) = try launch(["AWS_LAMBDA_RUNTIME_API": emulator.endpoint, "MINIMAL_FAIL_INIT": "1"])
        defer { if process.isRunning { process.terminate() } }
        #expect(try await waitForExit(process) == 1, "\(output.text)")
        let reported = await emulator.initError
        guard case .initError(let type, let document) = reported else {
            Issue.record("no init error was reported: \(String(describing: reported))")
            return
        }
        #expect(type == "Function.StartupFailure")
        #expect(document["errorMessage"] == "MINIMAL_FAIL_INIT is set")
        await emulator.stop()
    }

    @Test func missingRuntimeAPISaysWhatIsWrong() async throws {
        let (process, output) = try launch([:])
        #expect(try await waitForExit(process) == 1)
        try await Task.sleep(for: .milliseconds(50))
        #expect(output.text.contains("AWS_LAMBDA_RUNTIME_API is not set"))
    }
}
