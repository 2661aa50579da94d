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

    @Test func aRenamedRouteIsDriftOnATemporaryCopy() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
            "contract-drift-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: copy) }
        for service in LocalAPI.serviceNames {
            let source = URL(fileURLWithPath: "\(repositoryRoot)/services/\(service)")
            let target = copy.appendingPathComponent("services/\(service)")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: source.appendingPathComponent("contracts"), to: target.appendingPathComponent("contracts"))
            var declaration = try String(contentsOf: source.appendingPathComponent("service.json"), encoding: .utf8)
            if service == "users" {
                declaration = declaration.replacingOccurrences(
                    of: "\"DELETE /users/{id}\"", with: "\"DELETE /users/{userId}\"")
            }
            try declaration.write(to: target.appendingPathComponent("service.json"), atomically: true, encoding: .utf8)
        }
        let report = try await ContractReplay.run(root: copy.path, services: ["users"], mode: .inProcess)
        #expect(
            report.drift.contains {
                $0.contains("route DELETE /users/{id} is not declared in services/users/service.json")
            })
        #expect(report.drift.contains { $0.contains("route DELETE /users/{userId} has no contract case") })
    }
}
