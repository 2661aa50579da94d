import HTTPAPI
import JSONCoding
import Testing

@Suite struct ServiceDeclarationTests {
    static let json = """
        {
          "name": "demo",
          "function": {"memory": 256, "timeout": 10, "architecture": "x86_64", "environment": {"LOG_LEVEL": "INFO"}},
          "routes": {"GET /things": {"authorization": "NONE", "public": true}, "GET /things/{id}": {"authorization": "JWT", "scopes": ["things.read"]}},
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

    /// No route is open by omission: each says JWT, or NONE together with "public": true.
    @Test func everyRouteDeclaresItsAuthorization() throws {
        let missing = #"route 'GET /things' needs "authorization": "JWT" (or "NONE" with "public": true)"#
        let cases: [(String, String)] = [
            (#"{}"#, missing),
            (#"{"authorization": "jwt"}"#, missing),
            (
                #"{"authorization": "NONE"}"#,
                #"route 'GET /things' has authorization NONE: mark it "public": true if anyone may call it"#
            ),
            (
                #"{"authorization": "JWT", "public": true}"#,
                "route 'GET /things' is public but has authorization JWT: a public route has NONE"
            ),
        ]
        let declared = #""GET /things": {"authorization": "NONE", "public": true}"#
        for (route, problem) in cases {
            let text = Self.json.replacing(declared, with: #""GET /things": "# + route)
            #expect(try declaration(text).validate() == [problem])
        }
    }

    @Test func unknownKeysInTheDeclarationAreErrors() {
        #expect(throws: UnknownFieldsError.self) {
            try declaration(Self.json.replacing("\"timeout\": 10", with: "\"timeout\": 10, \"timout\": 3"))
        }
    }
}
