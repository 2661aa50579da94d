import HTTPAPI
import JSONCoding
import Testing

@Suite struct ServiceDeclarationTests {
    static let json = """
        {
          "name": "demo",
          "function": {"memory": 256, "timeout": 10, "architecture": "x86_64", "environment": {"LOG_LEVEL": "INFO"}},
          "routes": {"GET /things": {}, "GET /things/{id}": {"authorization": "JWT", "scopes": ["things.read"]}},
          "tables": {
            "things": {
              "partitionKey": {"name": "id", "type": "S"},
              "globalSecondaryIndexes": [{"name": "byOwner", "partitionKey": {"name": "owner", "type": "S"}, "projection": "ALL"}],
              "ttlAttribute": "expiresAt"
            }
          }
        }
        """

    func declaration(_ text: String = json) throws -> ServiceDeclaration {
        try JSON.decodeStrict(ServiceDeclaration.self, from: JSONValue.parse(text))
    }

    @Test func parsesRoutesFunctionAndTables() throws {
        let d = try declaration()
        #expect(d.routes["GET /things/{id}"]?.scopes == ["things.read"])
        #expect(d.tables?["things"]?.globalSecondaryIndexes?.first?.name == "byOwner")
        #expect(d.validate().isEmpty)
    }

    @Test func driftIsReportedBothWays() throws {
        var router = Router()
        router.on("GET /things") { _, _ in .noContent() }
        router.on("DELETE /things/{id}") { _, _ in .noContent() }
        #expect(
            try declaration().drift(from: router) == [
                "route 'GET /things/{id}' is declared in service.json but has no handler",
                "handler for 'DELETE /things/{id}' has no route declared in service.json",
            ])
        router.on("GET /things/{id}") { _, _ in .noContent() }
        #expect(try declaration().drift(from: router).count == 1)
    }

    @Test func invalidSettingsAreReported() throws {
        let bad = Self.json.replacing("\"memory\": 256", with: "\"memory\": 64")
            .replacing("\"GET /things\"", with: "\"GET things\"")
        let problems = try declaration(bad).validate()
        #expect(problems.contains { $0.contains("memory") })
        #expect(problems.contains { $0.contains("invalid route key 'GET things'") })
    }

    @Test func unknownKeysInTheDeclarationAreErrors() {
        #expect(throws: UnknownFieldsError.self) {
            try declaration(Self.json.replacing("\"timeout\": 10", with: "\"timeout\": 10, \"timout\": 3"))
        }
    }
}
