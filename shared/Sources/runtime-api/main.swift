// runtime-api: a packaged bootstrap run as Lambda runs it, over the project's one Runtime API
// emulator (LambdaTesting), for the scripts that check and benchmark packages (ci/bootstraps.py).
//
//   runtime-api --events FILE [--trace ID] [--timeout SECONDS] [--stdout FILE] BOOTSTRAP
//
// FILE holds a JSON array of events, all queued at once and handed out in order. The bootstrap
// gets this process's environment plus AWS_LAMBDA_RUNTIME_API, its stdout goes to --stdout (else
// nowhere). Prints one JSON document: every answer (its kind, body in base64, seconds from spawn,
// its body's parts and when the first arrived, and a streamed one's content type and error), the process's peak RSS in MB read just
// before it is killed, and its exit status if it ended by itself (after /init/error). Exit 1 with
// one line when the bootstrap exits or runs out of time before answering every event.
import Foundation
import JSONCoding
import LambdaTesting
import Synchronization

struct Arguments {
    var events = ""
    var trace: String?
    var timeout = 30.0
    var stdout: String?
    var bootstrap = ""

    static let usage = "usage: runtime-api --events FILE [--trace ID] [--timeout SECONDS] [--stdout FILE] BOOTSTRAP"

    init(_ arguments: [String]) throws(Failure) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            func value() throws(Failure) -> String {
                guard let value = rest.popFirst() else { throw Failure("\(argument) needs a value; \(Self.usage)") }
                return value
            }
            switch argument {
            case "--events": events = try value()
            case "--trace": trace = try value()
            case "--timeout":
                let text = try value()
                guard let seconds = Double(text), seconds > 0 else {
                    throw Failure("--timeout \(text) is not a number of seconds above 0")
                }
                timeout = seconds
            case "--stdout": stdout = try value()
            default:
                guard bootstrap.isEmpty, !argument.hasPrefix("-") else {
                    throw Failure("unknown argument \(argument); \(Self.usage)")
                }
                bootstrap = argument
            }
        }
        if events.isEmpty || bootstrap.isEmpty { throw Failure(Self.usage) }
    }
}

struct Failure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// How the race between the answers, the process and the clock ended.
enum Outcome: Sendable {
    case answered([Answer])
    case exited
    case timedOut
}

func readEvents(_ path: String) throws(Failure) -> [[UInt8]] {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure("cannot read \(path)") }
    guard let events = (try? JSONValue.parse(Array(data)))?.arrayValue else {
        throw Failure("\(path) is not a JSON array of events")
    }
    return events.map { $0.serialized() }
}

/// VmHWM of a running process, in MB (wait4's ru_maxrss would count this process's pages instead).
func peakResidentMegabytes(_ pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap({
            Double($0)
        })
    else { return nil }
    return kilobytes / 1024
}

func document(_ answer: Answer, since spawned: ContinuousClock.Instant) -> JSONValue {
    let seconds = spawned.duration(to: answer.at) / .seconds(1)
    var fields: [(key: String, value: JSONValue)] = [
        ("seconds", .number(String(seconds))), ("bodyParts", .number(String(answer.bodyParts))),
    ]
    if let first = answer.firstBodyPartAt {
        fields.append(("firstBodyPartSeconds", .number(String(spawned.duration(to: first) / .seconds(1)))))
    }
    switch answer.result {
    case .response(let body):
        fields += [("kind", "response"), ("body", .string(Base64.encode(body)))]
    case .error(let type, let error), .initError(let type, let error):
        let kind: JSONValue = if case .initError = answer.result { "init-error" } else { "error" }
        fields += [("kind", kind), ("errorType", .string(type)), ("body", .string(Base64.encode(error.serialized())))]
    case .streamed(let contentType, let body, let error):
        fields += [
            ("kind", "response"), ("body", .string(Base64.encode(body))),
            (
                "stream",
                .object(
                    JSONObject([
                        ("contentType", contentType.map(JSONValue.string) ?? .null),
                        ("error", error.map { ["type": .string($0.type), "document": $0.document] } ?? .null),
                    ]))
            ),
        ]
    }
    return .object(JSONObject(fields))
}

/// The bootstrap's process, spawned directly (posix_spawn: the clock starts at the spawn itself)
/// and reaped here.
final class Child: Sendable {
    let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    init(_ path: String, environment: [String: String], stdout: String?) throws(Failure) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = [strdup(path), nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for string in argv + envp { free(string) } }
        var pid: pid_t = 0
        let failed = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard failed == 0 else { throw Failure("cannot start \(path): \(String(cString: strerror(failed)))") }
        self.pid = pid
    }

    /// The exit status once the process has ended (a death by signal as 128 + the signal, as shells
    /// report it); the process is reaped by the first call that sees it end.
    var exitStatus: Int32? {
        status.withLock { status in
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid {
                    status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                }
            }
            return status
        }
    }

    func waitForExit(within seconds: Double) async -> Int32? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while exitStatus == nil && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        return exitStatus
    }
}

func run(_ arguments: Arguments) async throws -> Int32 {
    let events = try readEvents(arguments.events)
    let emulator = try await RuntimeAPIEmulator.start()
    var environment = ProcessInfo.processInfo.environment
    environment["AWS_LAMBDA_RUNTIME_API"] = emulator.endpoint.replacingOccurrences(of: "http://", with: "")
    let spawned = ContinuousClock.now
    let child: Child
    do { child = try Child(arguments.bootstrap, environment: environment, stdout: arguments.stdout) } catch {
        await emulator.stop()
        throw error
    }

    let (outcome, peak) = await withTaskGroup(of: Outcome.self) { group in
        group.addTask {
            let answers = await emulator.answers(to: events, traceID: arguments.trace)
            if !answers.contains(where: \.isInitError) { await emulator.waitUntilIdle() }
            return .answered(answers)
        }
        group.addTask {
            while child.exitStatus == nil {
                do { try await Task.sleep(for: .milliseconds(10)) } catch { return .timedOut }
            }
            return .exited
        }
        group.addTask {
            try? await Task.sleep(for: .seconds(arguments.timeout))
            return .timedOut
        }
        var first = await group.next()!
        // The process exiting after its /init/error: that answer is what it says.
        if case .exited = first, await emulator.initError != nil { first = await group.next()! }
        let peak = peakResidentMegabytes(child.pid)
        // After /init/error the runtime exits by itself; otherwise it waits for more, as on Lambda,
        // and is killed here, before the emulator stops (which it would report on its way out).
        let initFailed =
            if case .answered(let answers) = first { answers.contains(where: \.isInitError) } else { false }
        if !initFailed { kill(child.pid, SIGKILL) }
        await emulator.stop()  // ends the answers task whatever it was waiting for
        group.cancelAll()
        return (first, peak)
    }

    guard case .answered(let answers) = outcome else {
        let answered = await emulator.log.filter { $0.hasPrefix("POST") && $0.hasSuffix("202") }.count
        if let status = child.exitStatus, !outcome.isTimedOut {
            throw Failure(
                "\(arguments.bootstrap) exited with status \(status) after answering \(answered) of \(events.count) events"
            )
        }
        throw Failure("\(arguments.bootstrap) answered \(answered) of \(events.count) events in \(arguments.timeout) s")
    }
    let initFailed = answers.contains(where: \.isInitError)
    var status = await child.waitForExit(within: arguments.timeout)
    if status == nil {
        kill(child.pid, SIGKILL)
        status = await child.waitForExit(within: 5)
    }
    let result: JSONValue = [
        "answers": .array(answers.map { document($0, since: spawned) }),
        "peakRSSMegabytes": peak.map { .number(String($0)) } ?? .null,
        "exitStatus": initFailed ? status.map { .number(String($0)) } ?? .null : .null,
    ]
    print(result.jsonString)
    return 0
}

extension Outcome {
    var isTimedOut: Bool { if case .timedOut = self { true } else { false } }
}

extension Answer {
    var isInitError: Bool { if case .initError = result { true } else { false } }
}

do {
    exit(try await run(Arguments(Array(CommandLine.arguments.dropFirst()))))
} catch {
    let message = (error as? Failure)?.message ?? "the Runtime API emulator failed: \(error)"
    FileHandle.standardError.write(Data("runtime-api: \(message)\n".utf8))
    exit(1)
}
