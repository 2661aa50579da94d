import Foundation
import LocalAPI
import Testing

/// The registry is the one list the local gateway, contract replay and tests serve; a service.json
/// without its line (or the reverse) must stop `make run` with the fix, not serve a partial API.
@Suite struct RegistryTests {
    @Test func everyDeclaredServiceIsRegistered() {
        #expect(LocalAPI.registrationProblem(root: repositoryRoot) == nil)
        #expect(LocalAPI.declaredServices(root: repositoryRoot) == LocalAPI.serviceNames.sorted())
    }

    @Test func aDeclaredButUnregisteredServiceIsNamedWithItsFix() throws {
        let root = try copyOfDeclarations(adding: "never-registered")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let problem = try #require(LocalAPI.registrationProblem(root: root))
        #expect(
            problem.hasPrefix("services/never-registered/service.json exists but never-registered is not registered"))
        #expect(problem.contains("make new SERVICE=never-registered"))
    }

    @Test func aRegisteredServiceWithoutADeclarationIsNamed() throws {
        let root = try copyOfDeclarations(adding: nil, dropping: "items")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let problem = try #require(LocalAPI.registrationProblem(root: root))
        #expect(
            problem
                == "items is registered in tools/local-api/Sources/LocalAPI/Registry.swift but services/items/service.json does not exist"
        )
    }

    /// A temporary root holding services/<name>/service.json for the registered services, changed.
    func copyOfDeclarations(adding extra: String?, dropping dropped: String? = nil) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)").path
        for name in LocalAPI.serviceNames + [extra].compactMap({ $0 }) where name != dropped {
            try FileManager.default.createDirectory(
                atPath: "\(root)/services/\(name)", withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(root)/services/\(name)/service.json"))
        }
        return root
    }
}
