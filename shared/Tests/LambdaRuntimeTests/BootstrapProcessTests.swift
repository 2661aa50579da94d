import Foundation
import JSONCoding
import LambdaTesting
import Testing

/// The `minimal-bootstrap` executable as Lambda runs it: a separate process talking to the
/// Runtime API emulator.
@Suite struct BootstrapProcessTests {
    func launch(_ environment: [String: String]) throws -> BootstrapProcess {
        try BootstrapProcess(BootstrapProcess.builtExecutable("minimal-bootstrap"), environment: environment)
    }

    @Test func servesInvocationsLogsJSONAndFlushesOnSIGTERM() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        let process = try launch([
            "AWS_LAMBDA_RUNTIME_API": emulator.endpoint, "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "AWS_LAMBDA_FUNCTION_NAME": "minimal",
        ])
        defer { process.terminate() }
        var event = try JSONValue.parse(try httpEvent("GET", "/hello"))
        if case .object(var object) = event {
            object["rawQueryString"] = "name=Ada"
            event = .object(object)
        }
        let result = await emulator.invoke(event.serialized(), traceID: "Root=1-65f0-abc")
        let response = try #require(result.responseJSON)
        #expect(response["statusCode"] == 200)
        #expect(response["body"] == #"{"message":"hello Ada"}"#)

        kill(process.process.processIdentifier, SIGTERM)
        #expect(try await process.exitStatus() == 0)
        await emulator.stop()
        let text = try await process.completeOutput()
        let lines = text.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let hello = try #require(lines.first { $0["message"] == "saying hello" })
        #expect(hello["requestId"]?.stringValue?.isEmpty == false)
        #expect(hello["traceId"] == "Root=1-65f0-abc")
        #expect(hello["level"] == "INFO")
        #expect(lines.contains { $0["message"] == "SIGTERM received, shutting down" }, "\(text)")
    }

    @Test func initFailureIsReportedAndExitsNonZero() async throws {
        let emulator = try await RuntimeAPIEmulator.start()
        let process = try launch(["AWS_LAMBDA_RUNTIME_API": emulator.endpoint, "MINIMAL_FAIL_INIT": "1"])
        defer { process.terminate() }
        #expect(try await process.exitStatus() == 1, "\(process.text)")
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
        let process = try launch([:])
        #expect(try await process.exitStatus() == 1)
        #expect(try await process.completeOutput().contains("AWS_LAMBDA_RUNTIME_API is not set"))
    }
}
