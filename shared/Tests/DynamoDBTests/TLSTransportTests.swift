import AWSCore
import Foundation
import Testing

/// HTTPS to AWS is only as safe as its certificate check. A real TLS peer (`openssl s_server`)
/// presents a certificate from a throwaway CA: the transport refuses it against the system's
/// trust store or another CA, and accepts it only when that CA is the configured trust store
/// (what SSL_CERT_FILE sets; on Lambda the default is AL2023's bundle).
@Suite(.serialized, .timeLimit(.minutes(1))) struct TLSTransportTests {
    /// Two unrelated CAs and a certificate for localhost / 127.0.0.1 issued by the first.
    final class Certificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        var ca: String { "\(directory)/ca.pem" }
        var otherCA: String { "\(directory)/other-ca.pem" }

        init() throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
                toFile: "\(directory)/san.ext", atomically: true, encoding: .utf8)
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
            for name in ["ca", "other-ca"] {
                try openssl(
                    ["req", "-x509"] + ec + [
                        "-keyout", "\(name).key", "-out", "\(name).pem", "-subj", "/CN=\(name)", "-days", "1",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                    ])
            }
            try openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
            try openssl([
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "1", "-extfile", "san.ext",
            ])
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        /// Runs openssl in the certificates' directory; a failure fails the test.
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "openssl \(arguments.prefix(2).joined(separator: " ")) failed")
        }
    }

    /// `openssl s_server` with the certificate, on a free port of 127.0.0.1, for the body's duration.
    func withServer(_ certificates: Certificates, options: [String] = [], _ body: (Int) async throws -> Void)
        async throws
    {
        let port = TestSupport.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.currentDirectoryURL = URL(fileURLWithPath: certificates.directory)
        server.arguments =
            [
                "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", "server.pem", "-key", "server.key",
                "-www",
            ] + options
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try await Task.sleep(for: .seconds(1))  // a TCP probe would take s_server's one connection slot
        try await body(port)
    }

    func get(_ port: Int, trustStore: String?) async throws -> TransportResponse {
        let transport = try HTTPTransport(endpoint: "https://localhost:\(port)", trustStore: trustStore)
        return try await transport.send(method: "GET", path: "/", headers: [], body: [], timeout: .seconds(5))
    }

    @Test func onlyTheConfiguredCAsCertificatesAreAccepted() async throws {
        let certificates = try Certificates()
        try await withServer(certificates) { port in
            await #expect(throws: (any Error).self, "the system's trust store does not hold the test CA") {
                _ = try await get(port, trustStore: nil)
            }
            await #expect(throws: (any Error).self, "another CA does not vouch for this certificate") {
                _ = try await get(port, trustStore: certificates.otherCA)
            }
            let trusted = try await get(port, trustStore: certificates.ca)
            #expect(trusted.status == 200)
        }
    }

    @Test func aMissingTrustStoreIsNamed() async throws {
        let transport = try HTTPTransport(endpoint: "https://localhost:1", trustStore: "/nonexistent/ca.pem")
        let error = await #expect(throws: TransportError.self) {
            _ = try await transport.send(method: "GET", path: "/", headers: [], body: [], timeout: .seconds(1))
        }
        #expect(
            error?.description.hasPrefix("cannot load the TLS trust store SSL_CERT_FILE=/nonexistent/ca.pem") == true)
    }

    /// A body past the transport's bound fails the request rather than filling memory (the
    /// authorizer reads an identity provider's JWKS with a 256 KB bound).
    @Test func aResponseLargerThanTheBoundIsRefused() async throws {
        let certificates = try Certificates()
        try await withServer(certificates) { port in
            let transport = try HTTPTransport(
                endpoint: "https://localhost:\(port)", trustStore: certificates.ca, maxResponseBytes: 100)
            let error = await #expect(throws: TransportError.self) {
                _ = try await transport.send(method: "GET", path: "/", headers: [], body: [], timeout: .seconds(5))
            }
            #expect(error?.description == "the response body is larger than 100 bytes")
        }
    }

    /// TLS sends a server name (SNI) for a host name, never for an address (RFC 6066 §3); a
    /// name may start with a digit.
    @Test func aServerNameIsSentForNamesNotAddresses() {
        for name in ["localhost", "1password.example.com", "3m.com", "dynamodb.eu-west-1.amazonaws.com"] {
            #expect(!HTTPTransport.isIPLiteral(name), "\(name) is a name")
        }
        for address in ["127.0.0.1", "10.0.0.254", "::1", "[::1]", "fd00::8"] {
            #expect(HTTPTransport.isIPLiteral(address), "\(address) is an address")
        }
    }

    /// A server that speaks only TLS 1.1 (RFC 8996 deprecates it) is refused, whatever it presents.
    @Test func tlsOlderThanOnePointTwoIsRefused() async throws {
        let certificates = try Certificates()
        try await withServer(certificates, options: ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]) { port in
            await #expect(throws: (any Error).self, "TLS 1.1 is below the transport's minimum") {
                _ = try await get(port, trustStore: certificates.ca)
            }
        }
    }

    /// A hashed directory (`openssl rehash`, the layout SSL_CERT_DIR and the system directories
    /// have) is trusted exactly as its certificates are: the test CA's vouches, another CA's does not.
    @Test func aHashedDirectoryIsTrustedForWhatItHolds() async throws {
        let certificates = try Certificates()
        for (name, file) in [("trusted", certificates.ca), ("other", certificates.otherCA)] {
            let directory = "\(certificates.directory)/\(name)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: "\(directory)/ca.pem")
            try certificates.openssl(["rehash", directory])
        }
        #expect(HTTPTransport.isHashedDirectory("\(certificates.directory)/trusted"))
        #expect(!HTTPTransport.isHashedDirectory(certificates.directory), "ca.pem files are not hash links")
        try await withServer(certificates) { port in
            await #expect(throws: (any Error).self, "another CA's directory does not vouch for this certificate") {
                _ = try await get(port, trustStore: "\(certificates.directory)/other")
            }
        }
        try await withServer(certificates) { port in
            let trusted = try await get(port, trustStore: "\(certificates.directory)/trusted")
            #expect(trusted.status == 200)
        }
    }

    /// OpenSSL's variables decide, then the system's hashed directory where there is one.
    @Test func theTrustStoreComesFromTheEnvironmentThenTheSystem() {
        #expect(HTTPTransport.trustStore(environment: ["SSL_CERT_FILE": "/a.pem", "SSL_CERT_DIR": "/d"]) == "/a.pem")
        #expect(HTTPTransport.trustStore(environment: ["SSL_CERT_DIR": "/d"]) == "/d")
        let system = HTTPTransport.trustStore(environment: [:])
        #expect(system == HTTPTransport.systemHashedDirectories.first(where: HTTPTransport.isHashedDirectory))
    }
}
