import Foundation

/// moto on a free loopback port, started and stopped by a test, through the project's one launcher
/// (ci/moto_server.py: moto with the repairs the tests need, as ci/servers.py starts it). Python and
/// moto come from the project's `.venv` (ci/requirements.txt), else from PATH.
public final class MotoServer: @unchecked Sendable {
    let process = Process()
    public let port = Loopback.freePort()
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `.venv/bin/<tool>` when `make test` built the venv, else the tool on PATH.
    public static func tool(_ name: String) -> String {
        let venv = repositoryRoot.appendingPathComponent(".venv/bin/\(name)").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : name
    }

    public static func start() async throws -> MotoServer {
        let server = MotoServer()
        server.process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.process.arguments = [
            tool("python3"), repositoryRoot.appendingPathComponent("ci/moto_server.py").path,
            "-H", "127.0.0.1", "-p", String(server.port),
        ]
        server.process.environment = ProcessInfo.processInfo.environment.merging([
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "0",
        ]) { $1 }
        server.process.standardOutput = FileHandle.nullDevice
        server.process.standardError = FileHandle.nullDevice
        try server.process.run()
        do { try await Loopback.waitForPort(server.port) } catch {
            await server.stop()
            throw error
        }
        return server
    }

    /// moto_server ignores SIGTERM, and Foundation's waitUntilExit spins on Linux: kill and poll.
    public func stop() async { await Loopback.kill9(process) }
}

/// Loopback helpers for tests that start servers.
public enum Loopback {
    /// A free loopback port (bound and released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, length)
                _ = getsockname(fd, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func waitForPort(_ port: Int, seconds: Double = 30) async throws {
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

    public static func kill9(_ process: Process) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
    }
}
