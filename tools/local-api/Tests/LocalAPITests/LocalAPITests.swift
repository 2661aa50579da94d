import Foundation
import HTTPAPI
import JSONCoding
import JWT
import LambdaTesting
import LocalAPI
import LocalGateway
import LoopbackHTTP
import Platform
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// `make run` as a user meets it: real HTTP against the local gateway and local DynamoDB.
@Suite(.serialized) struct LocalAPITests {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var json: JSONValue
    }

    func send(_ method: String, _ url: String, _ body: String? = nil, headers: [String: String] = [:]) async throws
        -> Reply
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "content-type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, json: (try? JSONValue.parse(Array(data))) ?? .null)
    }

    /// The staging environment's JWT authorizer with a test signing key, and a token it accepts.
    static let secret = [UInt8](repeating: 42, count: 32)
    static func authorizer() throws -> JWTAuthorizer {
        let stage = try StageSettings.load(root: repositoryRoot, environment: "staging")
        return JWTAuthorizer(
            issuer: stage.jwtIssuer!, audiences: stage.jwtAudiences, keys: [.hmac(kid: "test", secret: secret)])
    }
    static func bearer(_ subject: String, scope: String = "users.read users.write items.read items.write") throws
        -> String
    {
        let authorizer = try authorizer()
        let claims: JSONObject = [
            "sub": .string(subject), "iss": .string(authorizer.issuer), "aud": .string(authorizer.audiences[0]),
            "exp": .number(String(WallClock.nowMilliseconds() / 1000 + 600)), "scope": .string(scope),
        ]
        return "Bearer " + JWTAuthorizer.developmentToken(claims: claims, secret: secret, kid: "test")
    }

    @Test func crudThroughTheGatewayForBothServices() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try Self.authorizer())
        let ada = try Self.bearer("ada")
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            let signedIn = ["authorization": ada]
            let created = try await send(
                "POST", "\(base)/users", #"{"email":"ada@example.com","name":"Ada"}"#, headers: signedIn)
            #expect(created.status == 201)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(id == "ada", "a user's id is its token's subject")
            #expect(try await send("GET", "\(base)/users/\(id)", headers: signedIn).json["email"] == "ada@example.com")
            let patched = try await send(
                "PATCH", "\(base)/users/\(id)", #"{"name":"Ada L."}"#,
                headers: ["if-match": "\"1\""].merging(signedIn) { $1 })
            #expect(patched.status == 200 && patched.headers["etag"] == "\"2\"")
            #expect(
                try await send(
                    "POST", "\(base)/users", #"{"email":"ADA@example.com","name":"Twin"}"#,
                    headers: ["authorization": try Self.bearer("twin")]
                ).status == 409)
            #expect(try await send("DELETE", "\(base)/users/\(id)", headers: signedIn).status == 204)

            let item = try await send(
                "POST", "\(base)/items", #"{"title":"Walk"}"#, headers: ["authorization": ada])
            #expect(item.status == 201 && item.json["owner"] == "ada")
            let itemID = try #require(item.json["id"]?.stringValue)
            #expect(
                try await send(
                    "PATCH", "\(base)/items/\(itemID)", #"{"status":"done"}"#,
                    headers: ["authorization": ada]
                ).status == 200)
            let listed = try await send(
                "GET", "\(base)/items?status=done", headers: ["authorization": ada])
            #expect(listed.json["items"]?.arrayValue?.count == 1)
            let fetched = try await send("GET", "\(base)/items/\(itemID)", headers: ["authorization": ada])
            #expect(fetched.status == 200 && fetched.json["status"] == "done")
            #expect(try await send("DELETE", "\(base)/items/\(itemID)", headers: ["authorization": ada]).status == 204)
            #expect(try await send("GET", "\(base)/items/\(itemID)", headers: ["authorization": ada]).status == 404)

            // Routes with a JWT authorizer refuse a request without a token, as API Gateway does.
            let anonymous = try await send("POST", "\(base)/items", #"{"title":"x"}"#)
            #expect(anonymous.status == 401 && anonymous.json == ["message": "Unauthorized"])
            #expect(
                try await send("GET", "\(base)/items", headers: ["authorization": "Bearer forged"]).status == 401)
            let readOnly = try Self.bearer("ada", scope: "items.read")
            let forbidden = try await send(
                "POST", "\(base)/items", #"{"title":"x"}"#, headers: ["authorization": readOnly])
            #expect(forbidden.status == 403 && forbidden.json == ["message": "Forbidden"], "a route's scope is missing")

            // API Gateway's own answers.
            let unknown = try await send("GET", "\(base)/nowhere")
            #expect(unknown.status == 404 && unknown.json == ["message": "Not Found"])
            #expect(
                try await send("PUT", "\(base)/users").status == 404,
                "an HTTP API answers an undeclared method with 404")
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    /// `make run TIMINGS=1`: each request's line says where its time went, down to each DynamoDB call.
    @Test func timingLinesBreakDownEachRequest() async throws {
        let lines = Mutex<[String]>([])
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try Self.authorizer(), timings: { line in lines.withLock { $0.append(line) } })
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            let signedIn = ["authorization": try Self.bearer("ada")]
            #expect(try await send("GET", "\(base)/users/ada", headers: signedIn).status == 404)
            #expect(try await send("GET", "\(base)/nowhere").status == 404)
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
        let recorded = lines.withLock { $0 }
        #expect(recorded.count == 2)
        let read = try #require(recorded.first)
        #expect(read.hasPrefix("timing GET /users/{id} 404 in "), "the route template, not the path: \(read)")
        #expect(read.containsText(": gateway ") && read.containsText(", function "), "\(read)")
        #expect(read.containsText("(DynamoDB GetItem "), "each DynamoDB call the function made: \(read)")
        #expect(recorded.last?.hasPrefix("timing GET /nowhere 404 in ") == true)
        #expect(recorded.last?.containsText("function") == false, "no function ran for an unknown route")
    }

    /// Every route is authorized and tenant-isolated, over real HTTP: anonymous callers get the
    /// authorizer's 401, user A reaches neither user B nor B's items, and only the admin scopes list
    /// every user (across the shards, without duplicates) or another owner's items.
    @Test func everyRouteIsAuthorizedAndTenantIsolated() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try Self.authorizer())
        let base = "http://127.0.0.1:\(running.gatewayPort)"
        do {
            let routes = [
                "POST /users", "GET /users", "GET /users/x", "PUT /users/x", "PATCH /users/x", "DELETE /users/x",
                "POST /items", "GET /items", "GET /items/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                "PUT /items/01ARZ3NDEKTSV4RRFFQ69G5FAV",
                "PATCH /items/01ARZ3NDEKTSV4RRFFQ69G5FAV", "DELETE /items/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            ]
            for route in routes {
                let parts = route.split(separator: " ")
                let method = String(parts[0])
                let reply = try await send(method, base + parts[1], ["GET", "DELETE"].contains(method) ? nil : "{}")
                #expect(reply.status == 401 && reply.json == ["message": "Unauthorized"], "anonymous \(route)")
            }
            let a = ["authorization": try Self.bearer("tenant-a")]
            let b = ["authorization": try Self.bearer("tenant-b")]
            for (who, headers) in [("a", a), ("b", b)] {
                let body = #"{"email":"\#(who)@example.com","name":"\#(who)"}"#
                #expect(try await send("POST", "\(base)/users", body, headers: headers).status == 201)
            }
            let bItem = try #require(
                try await send("POST", "\(base)/items", #"{"title":"B's"}"#, headers: b).json["id"]?.stringValue)
            #expect(try await send("GET", "\(base)/users/tenant-b", headers: a).status == 404)
            #expect(try await send("PATCH", "\(base)/users/tenant-b", #"{"name":"x"}"#, headers: a).status == 404)
            #expect(try await send("DELETE", "\(base)/users/tenant-b", headers: a).status == 404)
            #expect(try await send("GET", "\(base)/items/\(bItem)", headers: a).status == 404)
            #expect(try await send("PATCH", "\(base)/items/\(bItem)", #"{"title":"x"}"#, headers: a).status == 404)
            #expect(try await send("DELETE", "\(base)/items/\(bItem)", headers: a).status == 404)
            #expect(try await send("GET", "\(base)/items", headers: a).json["items"] == [])
            #expect(try await send("GET", "\(base)/items?owner=tenant-b", headers: a).status == 403)
            #expect(try await send("GET", "\(base)/users", headers: a).status == 403, "listing users takes users.admin")
            #expect(try await send("GET", "\(base)/users/tenant-b", headers: b).json["name"] == "b", "B is unchanged")
            #expect(try await send("GET", "\(base)/items/\(bItem)", headers: b).json["title"] == "B's")

            for i in 0..<9 {
                let headers = ["authorization": try Self.bearer("listed-\(i)")]
                _ = try await send(
                    "POST", "\(base)/users", #"{"email":"l\#(i)@example.com","name":"L"}"#, headers: headers)
            }
            let admin = ["authorization": try Self.bearer("ops", scope: "users.admin items.admin")]
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await send(
                    "GET", "\(base)/users?limit=4" + (cursor.map { "&cursor=\($0)" } ?? ""), headers: admin)
                #expect(page.status == 200)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                cursor = page.json["nextCursor"]?.stringValue
            } while cursor != nil && seen.count < 100
            #expect(seen.count == 11 && Set(seen).count == 11, "every user once: \(seen)")
            let bs = try await send("GET", "\(base)/items?owner=tenant-b", headers: admin)
            #expect(bs.status == 200 && bs.json["items"]?.arrayValue?.count == 1)
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    /// The events the gateway builds decode with the same code that decodes AWS's, with every field.
    @Test func eventsCarryEveryFieldAWSSends() throws {
        let request = ServerRequest(
            method: "POST", uri: "/users/a%20b?tag=1&tag=2&q=x%20y", version: "HTTP/1.1",
            headers: [
                ("Content-Type", "application/octet-stream"), ("Cookie", "a=1; b=2"), ("X-Multi", "one"),
                ("x-multi", "two"), ("User-Agent", "curl/8"),
            ],
            body: [0, 1, 255], remoteAddress: "127.0.0.1")
        let event = GatewayEvent.make(
            request, routeKey: "POST /users/{id}", pathParameters: ["id": "a b"], requestID: "rid", stage: .init(),
            nowMilliseconds: 1_795_394_091_000)
        for field in [
            "version", "routeKey", "rawPath", "rawQueryString", "cookies", "headers", "queryStringParameters",
            "pathParameters", "requestContext", "body", "isBase64Encoded",
        ] {
            #expect(event[field] != nil, "missing \(field)")
        }
        let context = try #require(event["requestContext"])
        for field in [
            "accountId", "apiId", "domainName", "domainPrefix", "http", "requestId", "routeKey", "stage", "time",
            "timeEpoch",
        ] {
            #expect(context[field] != nil, "missing requestContext.\(field)")
        }
        #expect(context["time"] == "23/Nov/2026:00:34:51 +0000")
        #expect(event["headers"]?["x-multi"] == "one,two", "repeated headers comma-joined, names lower-cased")
        #expect(event["headers"]?["cookie"] == nil && event["cookies"] == ["a=1", "b=2"])
        #expect(event["queryStringParameters"]?["tag"] == "1,2")
        let decoded = try HTTPRequest(event: event)
        #expect(decoded.body == [0, 1, 255], "binary bodies travel base64-encoded")
        #expect(decoded.query.values("tag") == ["1", "2"] && decoded.query["q"] == "x y")
        #expect(decoded.pathParameters == ["id": "a b"] && decoded.routeKey == "POST /users/{id}")
    }

    /// `make event` then `make invoke`: a generated event runs through the service's handler.
    @Test func generatedEventsInvokeTheService() async throws {
        let running = try await LocalAPI.start(
            root: repositoryRoot, gatewayPort: 0, dynamodbPort: 0, database: ":memory:",
            authorizer: try Self.authorizer())
        do {
            let request = ServerRequest(
                method: "POST", uri: "/users", headers: [("content-type", "application/json")],
                body: Array(#"{"email":"e@example.com","name":"E"}"#.utf8))
            #expect(throws: LocalGateway.GatewayError.self, "a JWT route's event needs a token") {
                try running.gateway.event(for: request)
            }
            var signed = request
            signed.headers.append(("authorization", try Self.bearer("eve")))
            let event = try running.gateway.event(for: signed)
            #expect(event["routeKey"] == "POST /users")
            #expect(event["requestContext"]?["authorizer"]?["jwt"]?["claims"]?["sub"] == "eve")
            let answer = try JSONValue.parse(
                try await running.gateway.invoke(service: "users", event: event.serialized()))
            #expect(answer["statusCode"] == 201)
            #expect(throws: LocalGateway.GatewayError.self) {
                try running.gateway.event(for: ServerRequest(method: "GET", uri: "/nowhere"))
            }
            await #expect(throws: LocalGateway.GatewayError.self) {
                _ = try await running.gateway.invoke(service: "nope", event: [])
            }
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
    }

    @Test func responsesMapBackAsAPIGatewayDoes() {
        let structured = GatewayEvent.response(
            fromLambda: Array(
                #"{"statusCode":201,"headers":{"x":"1"},"cookies":["a=1; Path=/","b=2"],"body":"AAH/","isBase64Encoded":true}"#
                    .utf8))
        #expect(structured.status == 201 && structured.body == [0, 1, 255])
        #expect(structured.headers.filter { $0.name == "set-cookie" }.map(\.value) == ["a=1; Path=/", "b=2"])
        let simple = GatewayEvent.response(fromLambda: Array(#"{"message":"hi"}"#.utf8))
        #expect(simple.status == 200 && simple.headers.first?.value == "application/json", "simple-response inference")
        #expect(GatewayEvent.response(fromLambda: Array(#"{"statusCode":"oops"}"#.utf8)).status == 500)
    }
}
