// `make run`: the local API Gateway and the local DynamoDB, serving every service in-process.
import Dispatch
import HTTPAPI
import JSONCoding
import LambdaRuntime
import LambdaTesting
import LocalAPI
import LocalGateway

#if canImport(Glibc)
    import Glibc
#endif

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

var port = 3000
var dynamodbPort = 8000
var database = ".local/dynamodb.sqlite"
var arguments = CommandLine.arguments.dropFirst()
// Subcommands: `invoke SERVICE EVENT_FILE` and `event METHOD PATH [BODY]`; otherwise serve.
var command = "serve"
var positional: [String] = []
var record: String?
var artifacts: String?
var payloadVersion = "2.0"
var environment = "staging"
var jwks: String?
var defaultService: String?
var scopes: [String] = []
var subject: String?
var ttl = 3600
if let first = arguments.first, ["invoke", "event", "contract", "token"].contains(first) {
    command = first
    arguments = arguments.dropFirst()
}
/// The value after an option, or the one line saying what the option needs.
func value(_ arguments: inout ArraySlice<String>, needs: String, valid: (String) -> Bool = { _ in true }) -> String {
    guard let value = arguments.popFirst(), valid(value) else { fail(needs) }
    return value
}
let isPort = { (text: String) in Int(text).map { (0...65535).contains($0) } ?? false }

while let argument = arguments.popFirst() {
    switch argument {
    case "--port": port = Int(value(&arguments, needs: "--port needs a port number, e.g. --port 3000", valid: isPort))!
    case "--dynamodb-port":
        dynamodbPort = Int(value(&arguments, needs: "--dynamodb-port needs a port number, e.g. 8000", valid: isPort))!
    case "--db": database = value(&arguments, needs: "--db needs a file path or :memory:")
    case "--in-memory": database = ":memory:"
    case "--record":
        record = value(
            &arguments,
            needs: "--record needs a scenario name of letters, digits, - and _, e.g. --record create-and-list",
            valid: { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
    case "--payload":
        payloadVersion = value(
            &arguments, needs: "--payload needs 1.0 (REST API proxy events) or 2.0 (HTTP API, the default)",
            valid: { $0 == "1.0" || $0 == "2.0" })
    case "--default-route":
        defaultService = value(&arguments, needs: "--default-route needs a service, e.g. --default-route users")
    case "--jwks": jwks = value(&arguments, needs: "--jwks needs a JWKS file, e.g. --jwks idp-keys.json")
    case "--scope": scopes.append(value(&arguments, needs: "--scope needs a scope, e.g. --scope items.read"))
    case "--sub": subject = value(&arguments, needs: "--sub needs the token's subject, e.g. --sub ada")
    case "--ttl":
        ttl = Int(value(&arguments, needs: "--ttl needs seconds, e.g. 3600", valid: { (Int($0) ?? 0) > 0 }))!
    case "--environment":
        environment = value(&arguments, needs: "--environment needs a name under environments/, e.g. staging")
    case "--artifact": artifacts = value(&arguments, needs: "--artifact needs the packages directory, e.g. .build/dist")
    case "-h", "--help":
        print(
            """
            usage: local-api [--port 3000] [--dynamodb-port 8000] [--db .local/dynamodb.sqlite | --in-memory]
                             [--record SCENARIO]   write each answered request to services/<name>/contracts/SCENARIO.json
                             [--payload 1.0|2.0]   the event format services get (1.0: REST API proxy)
                             [--environment staging] CORS, JWT issuer/audience, access log format from environments/<name>
                             [--jwks FILE]         also accept tokens signed by these keys (RS256/HS256 JWKS)
                             [--default-route SERVICE]  a $default route: unmatched requests go to SERVICE
                             [--artifact DIR]      run each service's packaged bootstrap from DIR (make package)
                                                   instead of its handler in-process
                   local-api token SUBJECT [--scope S]... [--ttl 3600]  a token signed with the development key
                   local-api invoke SERVICE EVENT_FILE [--db ...]   run one event through a service, print its answer
                   local-api event METHOD PATH [BODY] [--sub S [--scope S]...]  print the API Gateway event for
                                                   a request (JWT routes: signed in as S, claims as the authorizer passes them)
                   local-api contract [SERVICE ...] [--artifact DIR] replay the contract corpora (in-process, or
                                                                     the packaged bootstraps in DIR)
            """)
        exit(0)
    default:
        guard command != "serve", !argument.hasPrefix("--") else {
            fail("unknown option '\(argument)'; run with --help")
        }
        positional.append(argument)
    }
}
if database != ":memory:", let slash = database.lastIndex(of: "/") { mkdir(String(database[..<slash]), 0o755) }

/// The JWT authorizer for JWT routes: the environment's issuer and audiences; the development key
/// (.local/jwt-dev-key.json, created on first use) and any JWKS given.
func makeAuthorizer(_ stage: StageSettings, jwks: String?) throws -> (JWTAuthorizer, [UInt8]) {
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
@MainActor func developmentToken(_ subject: String) throws -> String {
    let (authorizer, secret) = try makeAuthorizer(try StageSettings.load(root: ".", environment: environment), jwks: jwks)
    let now = WallClock.nowMilliseconds() / 1000
    let granted = scopes.isEmpty ? ["users.read", "users.write", "items.read", "items.write"] : scopes
    let claims: JSONObject = [
        "sub": .string(subject), "iss": .string(authorizer.issuer), "aud": .string(authorizer.audiences[0]),
        "iat": .number(String(now)), "exp": .number(String(now + Int64(ttl))),
        "scope": .string(granted.joined(separator: " ")),
    ]
    return JWTAuthorizer.developmentToken(claims: claims, secret: secret, kid: JWTAuthorizer.developmentKeyID)
}

if command == "token" {
    do {
        guard positional.count == 1 else { fail("usage: local-api token SUBJECT [--scope S]... [--ttl SECONDS]") }
        say(try developmentToken(positional[0]))
        exit(0)
    } catch {
        fail("\(error)")
    }
}

if command == "contract" {
    do {
        let services = positional.isEmpty ? LocalAPI.serviceNames : positional
        let mode: ContractReplay.Mode = artifacts.map { .artifact($0) } ?? .inProcess
        let report = try await ContractReplay.run(root: ".", services: services, mode: mode)
        let label = artifacts.map { "packaged bootstraps in \($0)" } ?? "in-process handlers"
        for problem in report.drift { say("✗ drift: \(problem)") }
        for failure in report.failures { say(failure.description) }
        let failed = report.failures.count + report.drift.count
        say(
            "contract (\(label)): \(report.cases) cases in \(report.scenarios) scenarios of \(services.joined(separator: ", ")): "
                + (failed == 0
                    ? "all pass"
                    : "\(report.failures.count) failing scenario(s), \(report.drift.count) drift problem(s)"))
        exit(failed == 0 ? 0 : 1)
    } catch {
        fail("\(error)")
    }
}

if command != "serve" {
    do {
        let authorizer = try makeAuthorizer(try StageSettings.load(root: ".", environment: environment), jwks: jwks).0
        let running = try await LocalAPI.start(
            root: ".", gatewayPort: 0, dynamodbPort: 0, database: database, authorizer: authorizer)
        if command == "invoke" {
            guard positional.count == 2 else {
                fail("usage: local-api invoke SERVICE EVENT_FILE, e.g. invoke users event.json")
            }
            let event = try FileBytes.read(positional[1])
            say(String(decoding: try await running.gateway.invoke(service: positional[0], event: event), as: UTF8.self))
        } else {
            guard positional.count == 2 || positional.count == 3 else {
                fail("usage: local-api event METHOD PATH [BODY], e.g. event GET /users")
            }
            let body = positional.count == 3 ? Array(positional[2].utf8) : []
            let request = ServerRequest(
                method: positional[0].uppercased(), uri: positional[1],
                headers: [("host", "127.0.0.1:3000"), ("user-agent", "local-api")]
                    + (body.isEmpty ? [] : [("content-type", "application/json")])
                    + (try subject.map { [("authorization", "Bearer \(try developmentToken($0))")] } ?? []),
                body: body, remoteAddress: "127.0.0.1")
            say(try running.gateway.event(for: request).jsonString)
        }
        await running.stop()
        exit(0)
    } catch {
        fail("\(error)")
    }
}

let running: LocalAPI.Running
do {
    let stage = try StageSettings.load(root: ".", environment: environment)
    let (authorizer, _) = try makeAuthorizer(stage, jwks: jwks)
    running = try await LocalAPI.start(
        root: ".", gatewayPort: port, dynamodbPort: dynamodbPort, database: database, record: record,
        payloadVersion: payloadVersion, artifacts: artifacts, stage: stage, authorizer: authorizer,
        accessLog: { say($0) }, defaultService: defaultService)
} catch {
    fail("\(error) (is another process using port \(port) or \(dynamodbPort)? try --port / --dynamodb-port)")
}
var lines = [
    "",
    "Local API Gateway on http://127.0.0.1:\(running.gatewayPort)  (local DynamoDB on http://127.0.0.1:\(running.dynamodbPort), data in \(database))",
    "",
]
let table = running.gateway.routeTable
let width = table.map(\.key.count).max() ?? 0
for (key, service) in table { lines.append("  \(key.padding(width))  → \(service)") }
lines += [
    "", "Try:",
    "  token=$(make -s token SUB=ada)   # every route needs one (admin: SCOPE=\"users.admin items.admin\")",
    "  curl -s -X POST http://127.0.0.1:\(running.gatewayPort)/users -H \"authorization: Bearer $token\" -H 'content-type: application/json' -d '{\"email\":\"ada@example.com\",\"name\":\"Ada\"}'",
    "  curl -s http://127.0.0.1:\(running.gatewayPort)/users/ada -H \"authorization: Bearer $token\"",
    "  curl -s -X POST http://127.0.0.1:\(running.gatewayPort)/items -H \"authorization: Bearer $token\" -H 'content-type: application/json' -d '{\"title\":\"Try the API\"}'",
    "", "Ctrl-C stops both.", "",
]
if let record {
    lines.insert(
        "Recording every answered request to services/<service>/contracts/\(record).json\n", at: lines.count - 2)
}
say(lines.joined(separator: "\n"))

signal(SIGINT, SIG_IGN)
signal(SIGTERM, SIG_IGN)
let (stopped, stop) = AsyncStream<Void>.makeStream()
let signalSources = stopSignals(stop)
for await _ in stopped { break }
signalSources.forEach { $0.cancel() }
await running.stop()
say("stopped")

/// Ctrl-C and SIGTERM, delivered on a Dispatch thread (hence not main-actor code).
nonisolated func stopSignals(_ stop: AsyncStream<Void>.Continuation) -> [any DispatchSourceSignal] {
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
