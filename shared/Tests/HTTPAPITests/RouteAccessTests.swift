import HTTPAPI
import JSONCoding
import LambdaRuntime
import Testing

/// RouteAccess, the function's own check of each route's declared authorization before any handler
/// runs: what the gateway's authorizer checks first (scopes: "any one of", as API Gateway's JWT
/// authorizer reads them, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html),
/// checked again so a misdeclared gateway opens nothing.
struct RouteAccessTests {
    static let declaration = try! JSON.decodeStrict(
        ServiceDeclaration.self,
        from: [
            "name": "reports",
            "function": ["memory": 256, "timeout": 10, "architecture": "x86_64"],
            "routes": [
                "GET /reports": ["authorization": "JWT", "scopes": ["reports.admin"]],
                "GET /reports/{id}": ["authorization": "JWT", "scopes": ["reports.read", "reports.admin"]],
                "POST /reports": ["authorization": "JWT"],
                "GET /health": ["authorization": "NONE", "public": true],
            ],
        ])

    static func handler(access: RouteAccess) -> (HTTPLambdaHandler, Ran) {
        let ran = Ran()
        var router = Router()
        for key in ["GET /reports", "GET /reports/{id}", "POST /reports", "GET /health", "DELETE /reports/{id}"] {
            router.on(key) { _, _ in
                ran.mark()
                return try .json(["ok": true] as JSONValue)
            }
        }
        return (HTTPLambdaHandler(router: router, access: access), ran)
    }

    final class Ran: @unchecked Sendable {
        var count = 0
        func mark() { count += 1 }
    }

    static func event(_ method: String, _ path: String, key: String, authorizer: JSONValue = .null) -> [UInt8] {
        let event: JSONValue = [
            "version": "2.0", "routeKey": .string(key), "rawPath": .string(path), "rawQueryString": "",
            "headers": [:], "isBase64Encoded": false,
            "requestContext": [
                "http": [
                    "method": .string(method), "path": .string(path), "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4",
                ],
                "requestId": "r", "stage": "$default", "routeKey": .string(key), "authorizer": authorizer,
            ],
        ]
        return event.serialized()
    }

    static func jwt(_ subject: String, _ scopes: [String]) -> JSONValue {
        ["jwt": ["claims": ["sub": .string(subject)], "scopes": .array(scopes.map(JSONValue.string))]]
    }

    /// A Lambda authorizer's context, as the REST authorizer writes it: the claims as text, the
    /// scopes space-separated.
    static func lambda(_ subject: String, _ scope: String) -> JSONValue {
        ["lambda": ["sub": .string(subject), "scope": .string(scope)]]
    }

    static func status(_ answer: [UInt8]) throws -> Int {
        try #require(JSONValue.parse(answer)["statusCode"].flatMap { Int($0.jsonString) })
    }

    @Test func theDeclarationBecomesRulesAndTravelsInTheEnvironment() throws {
        let access = RouteAccess(declaration: Self.declaration)
        #expect(
            access.rules == [
                "GET /reports": .signedIn(scopes: ["reports.admin"]),
                "GET /reports/{id}": .signedIn(scopes: ["reports.read", "reports.admin"]),
                "POST /reports": .signedIn(scopes: []), "GET /health": .open,
            ])
        #expect(
            access.environmentValue
                == #"{"GET /health":null,"GET /reports":["reports.admin"],"GET /reports/{id}":["reports.read","reports.admin"],"POST /reports":[]}"#
        )
        #expect(try RouteAccess(environmentValue: access.environmentValue) == access)
        for bad in ["", "[]", #"{"GET /x":"a"}"#, #"{"GET /x":[1]}"#, #"{"GET /x":true}"#] {
            #expect(throws: RouteAccess.Problem.self) { try RouteAccess(environmentValue: bad) }
        }
    }

    @Test func aRequestReachesItsHandlerOnlyWithASubjectAndADeclaredScope() async throws {
        let (handler, ran) = Self.handler(access: RouteAccess(declaration: Self.declaration))
        let cases: [(String, String, String, JSONValue, Int)] = [
            ("GET", "/reports", "GET /reports", .null, 401),
            ("GET", "/reports", "GET /reports", Self.jwt("", ["reports.admin"]), 401),
            ("GET", "/reports", "GET /reports", Self.jwt("ada", ["reports.read"]), 403),
            ("GET", "/reports", "GET /reports", Self.lambda("ada", "reports.read"), 403),
            ("GET", "/reports", "GET /reports", Self.jwt("ada", ["reports.admin"]), 200),
            ("GET", "/reports", "GET /reports", Self.lambda("ada", "reports.read reports.admin"), 200),
            ("GET", "/reports/7", "GET /reports/{id}", Self.jwt("ada", ["reports.read"]), 200),
            ("POST", "/reports", "POST /reports", Self.jwt("ada", []), 200),
            ("POST", "/reports", "POST /reports", .null, 401),
            ("GET", "/health", "GET /health", .null, 200),
            // A handler the declaration does not name is never opened by the omission.
            ("DELETE", "/reports/7", "DELETE /reports/{id}", Self.jwt("ada", ["reports.admin"]), 403),
        ]
        var reached = 0
        for (method, path, key, authorizer, status) in cases {
            let answer = try await handler.handle(
                Self.event(method, path, key: key, authorizer: authorizer), context: Fixtures.context)
            #expect(try Self.status(answer) == status, "\(method) \(path) with \(authorizer)")
            if status == 200 { reached += 1 }
            if status != 200 {
                let body = try JSONValue.parse(Array((JSONValue.parse(answer)["body"]?.stringValue ?? "").utf8))
                #expect(body["status"] == .number(String(status)))
            }
        }
        #expect(ran.count == reached, "only the allowed requests ran a handler")
    }
}
