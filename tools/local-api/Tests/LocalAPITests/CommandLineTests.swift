import Foundation
import LambdaTesting
import Testing

/// `local-api` as a user types it: generated help for the tool and each subcommand, and a wrong
/// option or value answered with what is wrong, the subcommand's usage and where its help is.
@Suite struct CommandLineTests {
    struct Result {
        var status: Int32
        var output: String
    }

    func localAPI(_ arguments: String...) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BootstrapProcess.builtExecutable("local-api"))
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    @Test func helpListsEverySubcommandAndServeIsTheDefault() throws {
        let help = try localAPI("--help")
        #expect(help.status == 0)
        for subcommand in ["serve (default)", "token", "invoke", "event", "contract"] {
            #expect(help.output.contains("  \(subcommand)"), "\(subcommand) missing from:\n\(help.output)")
        }
    }

    @Test func eachSubcommandHasItsOwnHelp() throws {
        let expected = [
            "serve": ["--port <port>", "--artifact <dir>", "--record <scenario>", "--in-memory"],
            "token": ["<subject>", "--scope <scope>", "--ttl <ttl>"],
            "invoke": ["<service>", "<event-file>", "--db <file>"],
            "event": ["<method>", "<path>", "--sub <subject>"],
            "contract": ["<services> ...", "--artifact <dir>"],
        ]
        for (subcommand, options) in expected {
            let help = try localAPI(subcommand, "--help")
            #expect(help.status == 0)
            for option in options { #expect(help.output.contains(option), "\(subcommand) --help lacks \(option)") }
        }
        // --artifact belongs to serve and contract, not to the one-request tools.
        #expect(!(try localAPI("event", "--help")).output.contains("--artifact"))
    }

    @Test func aWrongOptionNamesTheSubcommandAndWhereItsHelpIs() throws {
        let unknown = try localAPI("token", "ada", "--bogus")
        #expect(unknown.status == 64)
        #expect(unknown.output.hasPrefix("Error: Unknown option '--bogus'"))
        #expect(unknown.output.contains("See 'local-api token --help'"))

        let port = try localAPI("--port", "70000")
        #expect(port.status == 64)
        #expect(port.output.contains("--port needs a port number from 0 to 65535"))
        #expect(port.output.contains("See 'local-api serve --help'"), "no subcommand means serve")

        let record = try localAPI("serve", "--record", "../escape")
        #expect(record.output.contains("--record needs a scenario name of letters, digits, - and _"))

        let ttl = try localAPI("token", "ada", "--ttl", "0")
        #expect(ttl.output.contains("--ttl needs a positive number of seconds"))
    }

    @Test func aTokenIsPrintedOnOneLine() throws {
        let token = try localAPI("token", "ada", "--scope", "users.read")
        #expect(token.status == 0)
        let parts = token.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
        #expect(parts.count == 3, "a compact JWS: header.payload.signature")
    }
}
