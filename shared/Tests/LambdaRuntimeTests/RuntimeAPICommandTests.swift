import Foundation
import JSONCoding
import LambdaTesting
import Testing

/// `runtime-api`, the emulator as a command (what ci/bootstraps.py runs packaged bootstraps with),
/// driving the `minimal-bootstrap` executable.
@Suite struct RuntimeAPICommandTests {
    struct Run {
        let status: Int32
        let document: JSONValue?
        let errors: String
    }

    /// runtime-api with these arguments and the bootstrap's environment, to completion.
    func runtimeAPI(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BootstrapProcess.builtExecutable("runtime-api"))
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let (output, errors) = (Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let document = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, document: try? JSONValue.parse(Array(document)),
            errors: String(decoding: message, as: UTF8.self))
    }

    func eventsFile(_ events: [JSONValue], in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("events.json").path
        try Data(JSONValue.array(events).serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    func hello(_ name: String) throws -> JSONValue {
        guard case .object(var event) = try JSONValue.parse(try httpEvent("GET", "/hello")) else {
            throw CocoaError(.coderInvalidValue)
        }
        event["rawQueryString"] = .string("name=\(name)")
        return .object(event)
    }

    func number(_ value: JSONValue?) -> Double? {
        if case .number(let text) = value { Double(text) } else { nil }
    }

    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-api-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func answersEveryEventInOrderWithTheirTimesTheTraceAndThePeakMemory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stdout = directory.appendingPathComponent("stdout").path
        let run = try runtimeAPI(
            [
                "--events", try eventsFile([try hello("Ada"), try hello("Grace")], in: directory), "--trace",
                "Root=1-65f0-abc", "--stdout", stdout, BootstrapProcess.builtExecutable("minimal-bootstrap"),
            ], environment: ["AWS_LAMBDA_LOG_FORMAT": "JSON"])
        #expect(run.status == 0, "\(run.errors)")
        let answers = try #require(run.document?["answers"]?.arrayValue)
        #expect(answers.map { $0["kind"] } == ["response", "response"])
        let bodies = try answers.map { answer in
            let body = try #require(answer["body"]?.stringValue.flatMap(Base64.decode))
            return try JSONValue.parse(body)["body"]
        }
        #expect(bodies == [#"{"message":"hello Ada"}"#, #"{"message":"hello Grace"}"#])
        let seconds = answers.compactMap { number($0["seconds"]) }
        #expect(seconds.count == 2 && seconds[0] > 0 && seconds[1] > seconds[0], "\(answers)")
        #expect((number(run.document?["peakRSSMegabytes"]) ?? 0) > 1)
        #expect(run.document?["exitStatus"] == .null, "a serving runtime is killed, not waited for")
        // What the bootstrap printed, each request's line carrying the trace given.
        let lines = try String(contentsOfFile: stdout, encoding: .utf8).split(separator: "\n").compactMap {
            try? JSONValue.parse(String($0))
        }
        let greetings = lines.filter { $0["message"] == "saying hello" }
        #expect(greetings.count == 2 && greetings.allSatisfy { $0["traceId"] == "Root=1-65f0-abc" }, "\(lines)")
    }

    @Test func anInitFailureAnswersEveryEventAndReportsTheExitStatus() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try runtimeAPI(
            [
                "--events", try eventsFile([try hello("Ada"), try hello("Grace")], in: directory),
                BootstrapProcess.builtExecutable("minimal-bootstrap"),
            ], environment: ["MINIMAL_FAIL_INIT": "1"])
        #expect(run.status == 0, "\(run.errors)")
        let answers = try #require(run.document?["answers"]?.arrayValue)
        #expect(answers.map { $0["kind"] } == ["init-error", "init-error"])
        #expect(answers.allSatisfy { $0["errorType"] == "Function.StartupFailure" })
        #expect(run.document?["exitStatus"] == 1)
    }

    @Test func aProcessThatEndsWithoutAnsweringFailsInOneLine() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try runtimeAPI(["--events", try eventsFile([try hello("Ada")], in: directory), "/bin/true"])
        #expect(run.status == 1)
        #expect(run.errors == "runtime-api: /bin/true exited with status 0 after answering 0 of 1 events\n")
    }

    @Test func badArgumentsSayWhatIsWrong() throws {
        #expect(
            try runtimeAPI(["--timeout", "soon"]).errors
                == "runtime-api: --timeout soon is not a number of seconds above 0\n")
        let missing = try runtimeAPI(["--events", "/nonexistent/events.json", "/bin/true"])
        #expect(missing.status == 1)
        #expect(missing.errors == "runtime-api: cannot read /nonexistent/events.json\n")
    }
}
