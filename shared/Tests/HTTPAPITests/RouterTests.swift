import HTTPAPI
import JSONCoding
import Testing

@Suite struct RouterTests {
    static func router(_ keys: [String]) -> Router {
        var router = Router()
        for key in keys {
            router.on(key) { request, _ in
                var params = JSONObject()
                for (k, v) in request.pathParameters.sorted(by: { $0.key < $1.key }) { params[k] = .string(v) }
                return try .json(["route": JSONValue.string(request.routeKey ?? ""), "params": .object(params)])
            }
        }
        return router
    }

    func call(_ router: Router, _ method: String, _ path: String) async throws -> (Int, JSONValue, HTTPResponse) {
        let response = await router.respond(to: .make(method, path), context: Fixtures.context)
        return (response.status, try JSONValue.parse(response.body), response)
    }

    @Test func mostSpecificRouteWins() async throws {
        let router = Self.router([
            "ANY /{proxy+}", "GET /users/{id}", "GET /users/me", "GET /users/{id}/items/{item}", "ANY /users/{id}",
            "GET /files/{path+}",
        ])
        #expect(try await call(router, "GET", "/users/me").1["route"] == "GET /users/me")
        #expect(try await call(router, "GET", "/users/42").1["route"] == "GET /users/{id}")
        #expect(try await call(router, "DELETE", "/users/42").1["route"] == "ANY /users/{id}")
        #expect(try await call(router, "GET", "/users/42/items/7").1["params"] == ["id": "42", "item": "7"])
        #expect(try await call(router, "GET", "/files/a/b/c.txt").1["params"] == ["path": "a/b/c.txt"])
        #expect(try await call(router, "POST", "/anything/else").1["route"] == "ANY /{proxy+}")
    }

    @Test func pathParametersArePercentDecoded() async throws {
        let router = Self.router(["GET /users/{id}"])
        #expect(try await call(router, "GET", "/users/a%20b%2Fc").1["params"] == ["id": "a b/c"])
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        let router = Self.router(["GET /users/{id}", "DELETE /users/{id}", "POST /users"])
        let (status, body, _) = try await call(router, "GET", "/nope")
        #expect(status == 404)
        #expect(body["title"] == "Not Found")
        let (status405, body405, response) = try await call(router, "PATCH", "/users/1")
        #expect(status405 == 405)
        #expect(body405["status"] == 405)
        #expect(response.headers["allow"] == "GET, DELETE")
        #expect(response.headers["content-type"] == "application/problem+json")
        // An empty segment does not fill a variable.
        #expect(try await call(router, "GET", "/users/").0 == 404)
    }

    @Test func headFallsBackToGetAndDefaultCatchesTheRest() async throws {
        let router = Self.router(["GET /a", "$default"])
        #expect(try await call(router, "HEAD", "/a").1["route"] == "GET /a")
        #expect(try await call(router, "GET", "/zzz").1["route"] == "$default")
    }

    @Test func gatewayRouteKeyIsTrusted() async throws {
        // API Gateway already matched the route and decoded the parameters: the router keeps them.
        let router = Self.router(["PUT /users/{id}"])
        let request = try HTTPRequest(event: Fixtures.event("httpapi-v2-jwt"))
        let response = await router.respond(to: request, context: Fixtures.context)
        #expect(try JSONValue.parse(response.body)["params"] == ["id": "u/42"])
    }

    @Test(arguments: [
        ("GET users", "must start with '/'"), ("FETCH /users", "unknown method"), ("GET /a/{proxy+}/b", "last segment"),
        ("GET /a/x{id}", "whole segment"), ("GET /a/{id}/{id}", "repeats"), ("GET", "expected 'METHOD /path'"),
        ("GET /a//b", "empty path segment"),
    ])
    func invalidRouteKeysAreRejected(key: String, reason: String) {
        #expect { try RouteKey(key) } throws: { "\($0)".contains(reason) }
    }

    @Test func thrownErrorsBecomeProblems() async throws {
        var router = Router()
        router.on("GET /problem") { _, _ in throw HTTPProblem(status: 409, detail: "already exists") }
        router.on("GET /bug") { _, _ in throw SomeBug() }
        let conflict = await router.respond(to: .make("GET", "/problem"), context: Fixtures.context)
        #expect(conflict.status == 409)
        let bug = await router.respond(to: .make("GET", "/bug"), context: Fixtures.context)
        #expect(bug.status == 500)
        #expect(!bug.bodyText.contains("secret"), "internal error details must not leak to clients")
        #expect(bug.bodyText.contains("req-1"), "the request id lets support find the log line")
    }

    struct SomeBug: Error, CustomStringConvertible { var description: String { "secret internal state" } }
}
