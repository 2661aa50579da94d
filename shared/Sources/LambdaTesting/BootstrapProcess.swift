import Foundation
import Synchronization

/// A packaged `bootstrap` (or any executable built beside the tests) run as Lambda runs it: a
/// separate process with only the environment given, its output collected.
public final class BootstrapProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Mutex(Data())
    private let outputEnded = Mutex(false)

    /// An executable built into the same directory as the running test binary.
    public static func builtExecutable(_ name: String) -> String {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // Swift Testing may run from inside an .xctest bundle directory.
        if directory.lastPathComponent.hasSuffix(".xctest") { directory = directory.deletingLastPathComponent() }
        return directory.appendingPathComponent(name).path
    }

    public init(_ executable: String, environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let pipe = Pipe()
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let chunk = handle.availableData
            guard !chunk.isEmpty else {
                // End of file: the process and anything it started have closed their output.
                handle.readabilityHandler = nil
                self?.outputEnded.withLock { $0 = true }
                return
            }
            self?.output.withLock { $0.append(chunk) }
        }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
    }

    deinit { if process.isRunning { process.terminate() } }

    /// Everything the process wrote to stdout and stderr so far.
    public var text: String { output.withLock { String(decoding: $0, as: UTF8.self) } }

    /// The exit status, waiting at most `seconds` (then the process is terminated and this throws).
    public func exitStatus(within seconds: Double = 10) async throws -> Int32 {
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

    /// Everything the process wrote, once it has exited and its output has ended (the reader may
    /// still be draining the pipe when the exit is seen); throws after `seconds`.
    public func completeOutput(within seconds: Double = 10) async throws -> String {
        _ = try await exitStatus(within: seconds)
        let deadline = Date().addingTimeInterval(seconds)
        while !outputEnded.withLock({ $0 }) {
            if Date() > deadline { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(5))
        }
        return text
    }

    public func terminate() { if process.isRunning { process.terminate() } }
}
