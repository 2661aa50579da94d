// `make run`: the local API Gateway and the local DynamoDB, serving every service in-process; and
// the tools around it (tokens, one-off invocations, events, contract replay).
import ArgumentParser
import Dispatch
import HTTPAPI
import JSONCoding
import JWT
import LocalAPI
import LocalGateway
import LoopbackHTTP
import Platform

#if canImport(Glibc)
    import Glibc
#endif

@main struct LocalAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local-api",
        abstract: "The local API Gateway and DynamoDB for every service under services/ (make run).",
        discussion: "Run from the repository's root. Without a subcommand, serves (local-api serve --help).",
        subcommands: [Serve.self, Token.self, Invoke.self, Event.self, Contract.self],
        defaultSubcommand: Serve.self)
}

// MARK: - Options shared by subcommands

/// Where the stage's settings come from and which keys the JWT authorizer trusts.
struct StageOptions: ParsableArguments {
    @Option(help: "CORS, JWT issuer/audience and access log format from environments/<name>.")
    var environment = "staging"

    @Option(
        help: ArgumentHelp(
            "Also accept tokens signed by these keys (a JWKS file: RS256, ES256 or HS256 keys).", valueName: "file"))
    var jwks: String?

    func stage() throws -> StageSettings { try StageSettings.load(root: ".", environment: environment) }

    /// The JWT authorizer for JWT routes: the environment's issuer and audiences; the development key
    /// (.local/jwt-dev-key.json, created on first use) and any JWKS given.
    func authorizer(_ stage: StageSettings) throws -> (JWTAuthorizer, secret: [UInt8]) {
        let secret = try JWTAuthorizer.developmentKey(path: ".local/jwt-dev-key.json")
        var keys: [JWTAuthorizer.Key] = [.hmac(kid: JWTAuthorizer.developmentKeyID, secret: secret)]
        if let jwks { keys += try JWTAuthorizer.keys(jwks: try JSONValue.parse(try FileBytes.read(jwks))) }
        let authorizer = JWTAuthorizer(
            issuer: stage.jwtIssuer ?? "https://local-api.invalid/",
            audiences: stage.jwtAudiences.isEmpty ? ["local"] : stage.jwtAudiences,
            keys: keys)
        return (authorizer, secret)
    }

    /// A token for `subject` signed with the development key, which the local gateway accepts.
    func developmentToken(_ subject: String, scopes: [String], ttl: Int) throws -> String {
        let (authorizer, secret) = try authorizer(try stage())
        let now = WallClock.nowMilliseconds() / 1000
        let granted = scopes.isEmpty ? ["users.read", "users.write", "items.read", "items.write"] : scopes
        let claims: JSONObject = [
            "sub": .string(subject), "iss": .string(authorizer.issuer), "aud": .string(authorizer.audiences[0]),
            "iat": .number(String(now)), "exp": .number(String(now + Int64(ttl))),
            "scope": .string(granted.joined(separator: " ")),
        ]
        return JWTAuthorizer.developmentToken(claims: claims, secret: secret, kid: JWTAuthorizer.developmentKeyID)
    }
}

/// Where the local DynamoDB keeps its data.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The local DynamoDB's SQLite file (or :memory:).", valueName: "file"))
    var db = ".local/dynamodb.sqlite"

    @Flag(help: "Keep the data in memory only (same as --db :memory:).")
    var inMemory = false

    /// The database path, its directory created.
    func database() -> String {
        let database = inMemory ? ":memory:" : db
        if database != ":memory:", let slash = database.lastIndex(of: "/") { mkdir(String(database[..<slash]), 0o755) }
        return database
    }
}

func validPort(_ port: Int, _ option: String) throws {
    guard (0...65535).contains(port) else {
        throw ValidationError("\(option) needs a port number from 0 to 65535 (0: any free port), e.g. \(option) 3000")
    }
}

// MARK: - Subcommands

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve every service behind the local API Gateway (the default subcommand).")

    @Option(help: "The gateway's port on 127.0.0.1.") var port = 3000
    @Option(help: "The local DynamoDB's port on 127.0.0.1.") var dynamodbPort = 8000
    @OptionGroup var store: StoreOptions
    @OptionGroup var stageOptions: StageOptions

    @Option(
        help: ArgumentHelp(
            "Write each answered request to services/<name>/contracts/<scenario>.json.", valueName: "scenario"))
    var record: String?

    @Option(
        help: ArgumentHelp(
            "The event format services get: 2.0 (HTTP API) or 1.0 (REST API proxy; always, with --api rest).",
            valueName: "version"))
    var payload: String?

    @Option(
        help: ArgumentHelp(
            "Answer as an HTTP API or a REST API (its errors, payload 1.0, the Lambda authorizer); default: the environment's api_type.",
            valueName: "http|rest"))
    var api: String?

    @Option(help: ArgumentHelp("A $default route: unmatched requests go to this service.", valueName: "service"))
    var defaultRoute: String?

    @Option(
        help: ArgumentHelp(
            "Run each service's packaged bootstrap from this directory (make package) instead of its handler in-process.",
            valueName: "dir"))
    var artifact: String?

    @Flag(
        help:
            "Print a line per request with where its time went: the gateway, the function, each DynamoDB call (in-process services)."
    )
    var timings = false

    @Option(
        help: ArgumentHelp(
            "Serve API docs at /_docs/: Swagger UI from this directory (swagger-ui-py's static files; make run passes it).",
            valueName: "dir"))
    var docs: String?

    func validate() throws {
        try validPort(port, "--port")
        try validPort(dynamodbPort, "--dynamodb-port")
        if let payload, !["1.0", "2.0"].contains(payload) {
            throw ValidationError("--payload needs 1.0 (REST API proxy events) or 2.0 (HTTP API, the default)")
        }
        if let api, !["http", "rest"].contains(api) {
            throw ValidationError("--api needs http or rest (default: the environment's api_type)")
        }
        if api == "rest", payload == "2.0" {
            throw ValidationError("a REST API sends payload 1.0 to its Lambda proxy integrations: drop --payload 2.0")
        }
        if let record, record.isEmpty || !record.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            throw ValidationError(
                "--record needs a scenario name of letters, digits, - and _, e.g. --record create-and-list")
        }
    }

    func run() async throws {
        let database = store.database()
        let running: LocalAPI.Running
        let timingLines: (@Sendable (String) -> Void)? = timings ? { @Sendable line in say(line) } : nil
        do {
            let stage = try stageOptions.stage()
            running = try await LocalAPI.start(
                root: ".", gatewayPort: port, dynamodbPort: dynamodbPort, database: database, record: record,
                payloadVersion: payload ?? "2.0", artifacts: artifact, stage: stage,
                authorizer: try stageOptions.authorizer(stage).0, api: api ?? stage.apiType, accessLog: { say($0) },
                defaultService: defaultRoute, timings: timingLines, docs: try apiDocs())
        } catch {
            fail("\(error) (is another process using port \(port) or \(dynamodbPort)? try --port / --dynamodb-port)")
        }
        say(banner(running, database: database))

        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stopped, stop) = AsyncStream<Void>.makeStream()
        let signalSources = stopSignals(stop)
        for await _ in stopped { break }
        for source in signalSources { source.cancel() }
        await running.stop()
        say("stopped")
    }

    /// The docs page, its calls signed in as `developer` with every scope a route declares.
    func apiDocs() throws -> APIDocs? {
        guard let docs else { return nil }
        var scopes = Set<String>()
        for name in LocalAPI.serviceNames {
            let declaration = try ServiceDeclaration.load(path: "./services/\(name)/service.json")
            for route in declaration.routes.values { scopes.formUnion(route.scopes ?? []) }
        }
        let (options, granted) = (stageOptions, scopes.sorted())
        return try APIDocs(assets: docs, root: ".", services: LocalAPI.serviceNames) {
            try options.developmentToken("developer", scopes: granted, ttl: 3600)
        }
    }

    func banner(_ running: LocalAPI.Running, database: String) -> String {
        let url = "http://127.0.0.1:\(running.gatewayPort)"
        var lines = [
            "",
            "Local API Gateway (\(running.gateway.apiType)) on \(url)  (local DynamoDB on http://127.0.0.1:\(running.dynamodbPort), data in \(database))",
            "",
        ]
        let table = running.gateway.routeTable
        let width = table.map(\.key.count).max() ?? 0
        for (key, service) in table { lines.append("  \(key.padding(width))  → \(service)") }
        lines += [
            "", "Try:",
            "  token=$(make -s token SUB=ada)   # every route needs one (admin: SCOPE=\"users.admin items.admin\")",
            "  curl -s -X POST \(url)/users -H \"authorization: Bearer $token\" -H 'content-type: application/json' -d '{\"email\":\"ada@example.com\",\"name\":\"Ada\"}'",
            "  curl -s \(url)/users/ada -H \"authorization: Bearer $token\"",
            "  curl -s -X POST \(url)/items -H \"authorization: Bearer $token\" -H 'content-type: application/json' -d '{\"title\":\"Try the API\"}'",
            "", "Ctrl-C stops both.", "",
        ]
        if docs != nil {
            lines.insert(
                "API docs: \(url)\(APIDocs.path)  (Try it out is signed in as developer, with every declared scope)",
                at: lines.count - 2)
        }
        if let record {
            lines.insert(
                "Recording every answered request to services/<service>/contracts/\(record).json\n", at: lines.count - 2
            )
        }
        return lines.joined(separator: "\n")
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a token signed with the development key, which the local gateway accepts.")

    @Argument(help: "The token's subject (the caller's id).") var subject: String
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope to grant (repeat it).", valueName: "scope"))
    var scopes: [String] = []
    @Option(help: "Seconds until the token expires.") var ttl = 3600
    @OptionGroup var stageOptions: StageOptions

    func validate() throws {
        guard ttl > 0 else { throw ValidationError("--ttl needs a positive number of seconds, e.g. --ttl 3600") }
    }

    func run() async throws {
        do { say(try stageOptions.developmentToken(subject, scopes: scopes, ttl: ttl)) } catch { fail("\(error)") }
    }
}

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one API Gateway event through a service and print its answer.")

    @Argument(help: "The service, e.g. users.") var service: String
    @Argument(help: "A file holding the event (make event prints one).") var eventFile: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var stageOptions: StageOptions

    func run() async throws {
        do {
            let running = try await startForOneRequest(store, stageOptions)
            let event = try FileBytes.read(eventFile)
            say(String(decoding: try await running.gateway.invoke(service: service, event: event), as: UTF8.self))
            await running.stop()
        } catch {
            fail("\(error)")
        }
    }
}

struct Event: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the API Gateway event a request becomes.",
        discussion: "JWT routes need --sub: the event then carries the claims as the authorizer passes them.")

    @Argument(help: "The HTTP method, e.g. GET.") var method: String
    @Argument(help: "The path and query, e.g. /users/ada.") var path: String
    @Argument(help: "A JSON body.") var body: String?
    @Option(help: ArgumentHelp("Signed in as this subject.", valueName: "subject")) var sub: String?
    @Option(name: .customLong("scope"), help: ArgumentHelp("A scope the token grants (repeat it).", valueName: "scope"))
    var scopes: [String] = []
    @OptionGroup var store: StoreOptions
    @OptionGroup var stageOptions: StageOptions

    func run() async throws {
        do {
            let running = try await startForOneRequest(store, stageOptions)
            let bytes = Array((body ?? "").utf8)
            let request = ServerRequest(
                method: method.uppercased(), uri: path,
                headers: [("host", "127.0.0.1:3000"), ("user-agent", "local-api")]
                    + (bytes.isEmpty ? [] : [("content-type", "application/json")])
                    + (try sub.map {
                        [
                            (
                                "authorization",
                                "Bearer \(try stageOptions.developmentToken($0, scopes: scopes, ttl: 3600))"
                            )
                        ]
                    } ?? []),
                body: bytes, remoteAddress: "127.0.0.1")
            say(try running.gateway.event(for: request).jsonString)
            await running.stop()
        } catch {
            fail("\(error)")
        }
    }
}

struct Contract: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay the services' contract corpora (services/<name>/contracts) and report every difference.")

    @Argument(help: "The services to replay (default: all).") var services: [String] = []
    @Option(
        help: ArgumentHelp("Replay against the packaged bootstraps in this directory (make package).", valueName: "dir")
    )
    var artifact: String?

    func run() async throws {
        let services = services.isEmpty ? LocalAPI.serviceNames : services
        let report: ContractReplay.Report
        do {
            report = try await ContractReplay.run(
                root: ".", services: services, mode: artifact.map { .artifact($0) } ?? .inProcess)
        } catch {
            fail("\(error)")
        }
        let label = artifact.map { "packaged bootstraps in \($0)" } ?? "in-process handlers"
        for problem in report.drift { say("✗ drift: \(problem)") }
        for failure in report.failures { say(failure.description) }
        let failed = report.failures.count + report.drift.count
        say(
            "contract (\(label)): \(report.cases) cases in \(report.scenarios) scenarios of \(services.joined(separator: ", ")): "
                + (failed == 0
                    ? "all pass"
                    : "\(report.failures.count) failing scenario(s), \(report.drift.count) drift problem(s)"))
        if failed > 0 { throw ExitCode.failure }
    }
}

// MARK: - Helpers

/// The gateway on free ports, for one request (invoke, event).
func startForOneRequest(_ store: StoreOptions, _ stageOptions: StageOptions) async throws -> LocalAPI.Running {
    let authorizer = try stageOptions.authorizer(try stageOptions.stage()).0
    return try await LocalAPI.start(
        root: ".", gatewayPort: 0, dynamodbPort: 0, database: store.database(), authorizer: authorizer)
}

/// Unbuffered: the banner must show before the first request, even when stdout is a pipe.
func say(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = write(1, bytes, bytes.count)
}

func fail(_ message: String) -> Never {
    let line = Array("local-api: \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(2)
}

/// Ctrl-C and SIGTERM, delivered on a Dispatch thread.
func stopSignals(_ stop: AsyncStream<Void>.Continuation) -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { sig in
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler { stop.yield() }
        source.resume()
        return source
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
