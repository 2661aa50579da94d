import ContractTesting
import Foundation
import JSONCoding
import LocalAPI
import Testing

/// The contract corpora under services/<name>/contracts, and proof that the replay catches what
/// it exists to catch: a renamed field, a changed status, a route that no longer exists.
@Suite(.serialized) struct ContractTests {
    func scenario(_ service: String, _ name: String) throws -> ContractScenario {
        try #require(
            try ContractScenario.load(directory: "\(repositoryRoot)/services/\(service)/contracts").first {
                $0.name == name
            })
    }

    /// Replays a scenario against the real users handler whose answers `breaking` alters.
    func replayBroken(_ scenario: ContractScenario, breaking: @escaping @Sendable (JSONValue) -> JSONValue) async throws
        -> ContractFailure?
    {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:")
        let failure = await ContractRunner.run(scenario) { event in
            let answer = try await running.gateway.invoke(service: "users", event: event.serialized())
            return breaking(try JSONValue.parse(answer)).serialized()
        }
        await running.stop()
        return failure
    }

    @Test func everyCorpusPassesInProcessAndCoversEveryRoute() async throws {
        let report = try await ContractReplay.run(
            root: repositoryRoot, services: LocalAPI.serviceNames, mode: .inProcess)
        #expect(report.failures.isEmpty, "\(report.failures.map(\.description).joined(separator: "\n"))")
        #expect(report.drift.isEmpty, "\(report.drift)")
        #expect(report.scenarios >= 8)
        #expect(report.cases >= 50)
    }

    @Test func aRenamedFieldFailsNamingTheCaseAndTheField() async throws {
        let failure = try await replayBroken(try scenario("users", "crud")) { answer in
            guard case .object(var response) = answer, let body = response["body"]?.stringValue,
                case .object(var user) = try? JSONValue.parse(body), let name = user["name"]
            else { return answer }
            user["name"] = nil
            user["fullName"] = name
            response["body"] = .string(JSONValue.object(user).jsonString)
            return .object(response)
        }
        let report = try #require(failure).description
        #expect(report.contains(#"crud.json › "1. POST /users → 201""#))
        #expect(report.contains(#"body.name: missing (expected "Ada Lovelace")"#))
        #expect(report.contains(#"body.fullName: unexpected (got "Ada Lovelace")"#))
    }

    @Test func aChangedStatusFailsNamingTheCase() async throws {
        let failure = try await replayBroken(try scenario("users", "crud")) { answer in
            guard case .object(var response) = answer, response["statusCode"] == .number("201") else { return answer }
            response["statusCode"] = .number("200")
            return .object(response)
        }
        let report = try #require(failure).description
        #expect(report.contains(#""1. POST /users → 201""#))
        #expect(report.contains("statusCode: expected 201, got 200"))
    }

    /// The services' declarations and corpora in a temporary root, users' declaration edited.
    func copyOfServices(editingUsers edit: (String) -> String) throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contract-copy-\(UInt64.random(in: 0...UInt64.max))")
        for service in LocalAPI.serviceNames {
            let source = URL(fileURLWithPath: "\(repositoryRoot)/services/\(service)")
            let target = copy.appendingPathComponent("services/\(service)")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: source.appendingPathComponent("contracts"), to: target.appendingPathComponent("contracts"))
            var declaration = try String(contentsOf: source.appendingPathComponent("service.json"), encoding: .utf8)
            if service == "users" { declaration = edit(declaration) }
            try declaration.write(to: target.appendingPathComponent("service.json"), atomically: true, encoding: .utf8)
        }
        return copy
    }

    @Test func aRenamedRouteIsDriftOnATemporaryCopy() async throws {
        let copy = try copyOfServices {
            $0.replacingOccurrences(of: "\"DELETE /users/{id}\"", with: "\"DELETE /users/{userId}\"")
        }
        defer { try? FileManager.default.removeItem(at: copy) }
        let report = try await ContractReplay.run(root: copy.path, services: ["users"], mode: .inProcess)
        #expect(
            report.drift.contains {
                $0.contains("route DELETE /users/{id} is not declared in services/users/service.json")
            })
        #expect(report.drift.contains { $0.contains("route DELETE /users/{userId} has no contract case") })
    }

    /// The recorded 401 and 403 are the contract too: a route published without its authorizer, or
    /// with a wider scope list, fails the corpus at the case that proved it closed.
    /// The recorded 401 and 403 are the contract too: a route published without its authorizer, or
    /// with a wider scope list, fails the corpus at the case that proved it closed.
    @Test func aRouteThatLosesItsAuthorizerOrScopeFailsItsCase() async throws {
        func editingRoute(_ key: String, _ edit: @escaping (inout JSONObject) -> Void) throws -> URL {
            try copyOfServices { text in
                guard case .object(var declaration)? = try? JSONValue.parse(Array(text.utf8)),
                    case .object(var routes)? = declaration["routes"], case .object(var route)? = routes[key]
                else { return text }
                edit(&route)
                routes[key] = .object(route)
                declaration["routes"] = .object(routes)
                return JSONValue.object(declaration).jsonString
            }
        }
        let open = try editingRoute("GET /users/{id}") { route in
            route["authorization"] = "NONE"
            route["public"] = true
            route["scopes"] = nil
        }
        defer { try? FileManager.default.removeItem(at: open) }
        let widened = try editingRoute("GET /users") { $0["scopes"] = ["users.read", "users.admin"] }
        defer { try? FileManager.default.removeItem(at: widened) }
        for (root, failingCase) in [
            (open, #"authorization.json › "3. GET /users/ada → 401""#),
            (widened, #"authorization.json › "8. GET /users → 403""#),
        ] {
            let report = try await ContractReplay.run(root: root.path, services: ["users"], mode: .inProcess)
            let failures = report.failures.map(\.description).joined(separator: "\n")
            #expect(failures.contains(failingCase), "\(failures)")
        }
    }

    @Test func aChangedHeaderFailsNamingIt() async throws {
        let failure = try await replayBroken(try scenario("users", "crud")) { answer in
            guard case .object(var response) = answer, case .object(var headers)? = response["headers"],
                headers["location"] != nil
            else { return answer }
            headers["location"] = "/users/someone-else"
            response["headers"] = .object(headers)
            return .object(response)
        }
        let report = try #require(failure).description
        #expect(report.contains(#""1. POST /users → 201""#))
        #expect(report.contains("headers.location"), "\(report)")
    }
}
