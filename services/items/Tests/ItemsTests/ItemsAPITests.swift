import Foundation
import HTTPAPI
import JSONCoding
import LambdaRuntime
import ServiceKit
import ServiceTesting
import Testing

@testable import Items

let declarationPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("service.json").path

func withItems(on backend: ServiceFixture.Backend = .local, _ body: (ServiceFixture) async throws -> Void) async throws
{
    try await ServiceFixture.with(
        declarationPath: declarationPath, backend: backend,
        makeRouter: { ItemsAPI(db: $0, table: "items", cursorSecret: "test-secret").router }, body)
}

/// A caller as API Gateway's JWT authorizer presents it.
func user(_ subject: String) -> Authorizer {
    .jwt(claims: ["sub": .string(subject)], scopes: ["items.read", "items.write"])
}

extension ServiceFixture {
    func create(_ title: String, as owner: String = "ada", extra: String = "") async -> Reply {
        await call("POST", "/items", #"{"title":"\#(title)"\#(extra)}"#, authorizer: user(owner))
    }
}

@Suite struct ItemsAPITests {
    @Test func declarationHandlersAndOpenAPIAgree() async throws {
        try await withItems { items in
            let violations = try serviceContractViolations(declarationPath: declarationPath, router: items.router)
            #expect(violations == [])
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func readUpdateDeleteAndTheirFailures(backend: ServiceFixture.Backend) async throws {
        try await withItems(on: backend) { items in
            let id = try #require(await items.create("Write report").json["id"]?.stringValue)
            #expect(await items.call("GET", "/items/\(id)", authorizer: user("bob")).status == 200)
            #expect(await items.call("GET", "/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", authorizer: user("ada")).status == 404)
            #expect(
                await items.call("PATCH", "/items/\(id)", #"{"title":"Mine now"}"#, authorizer: user("bob")).status
                    == 403)
            let patched = await items.call(
                "PATCH", "/items/\(id)", #"{"description":"draft","status":"in_progress"}"#,
                headers: ["if-match": "\"1\""], authorizer: user("ada"))
            #expect(
                patched.status == 200 && patched.json["status"] == "in_progress" && patched.headers["etag"] == "\"2\"")
            #expect(
                await items.call(
                    "PATCH", "/items/\(id)", #"{"title":"late"}"#, headers: ["if-match": "\"1\""],
                    authorizer: user("ada")
                ).status == 412)
            #expect(
                await items.call("PUT", "/items/\(id)", #"{"title":"No status"}"#, authorizer: user("ada")).status
                    == 400)
            let replaced = await items.call(
                "PUT", "/items/\(id)", #"{"title":"Final report","status":"in_progress"}"#, authorizer: user("ada"))
            #expect(
                replaced.status == 200 && replaced.json["description"] == nil, "PUT replaces: the description is gone")
            #expect(
                await items.call("PATCH", "/items/\(id)", #"{"status":"archived"}"#, authorizer: user("ada")).status
                    == 400)
            #expect(await items.call("DELETE", "/items/\(id)", authorizer: user("bob")).status == 403)
            #expect(
                await items.call("DELETE", "/items/\(id)", headers: ["if-match": "\"1\""], authorizer: user("ada"))
                    .status == 412)
            #expect(await items.call("DELETE", "/items/\(id)", authorizer: user("ada")).status == 204)
            #expect(await items.call("GET", "/items/\(id)", authorizer: user("ada")).status == 404)
        }
    }

    @Test(arguments: [
        (#"{"title":""}"#, ["/title"]), (#"{}"#, ["/title"]), (#"{"title":"x","status":"nope"}"#, ["/status"]),
        (#"{"title":"x","expiresAt":5}"#, ["/expiresAt"]), (#"{"title":"x","extra":1}"#, ["/extra"]),
        (#"{"title":"x","reopen":true}"#, ["/reopen"]), (#"{"title":7}"#, ["/title"]),
    ])
    func invalidBodiesNameTheField(body: String, pointers: [String]) async throws {
        try await withItems { items in
            let reply = await items.call("POST", "/items", body, authorizer: user("ada"))
            #expect(reply.status == 400)
            #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == pointers)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func statusTransitionsAreValidated(backend: ServiceFixture.Backend) async throws {
        try await withItems(on: backend) { items in
            let id = try #require(await items.create("Task").json["id"]?.stringValue)
            func set(_ body: String) async -> Int {
                await items.call("PATCH", "/items/\(id)", body, authorizer: user("ada")).status
            }
            #expect(await set(#"{"status":"done"}"#) == 200)
            let refused = await items.call("PATCH", "/items/\(id)", #"{"status":"open"}"#, authorizer: user("ada"))
            #expect(refused.status == 409 && refused.json["errors"]?.arrayValue?.first?["pointer"] == "/status")
            #expect(await set(#"{"status":"open","reopen":true}"#) == 200, "done re-opens only with the explicit rule")
            #expect(await set(#"{"status":"cancelled"}"#) == 200)
            #expect(await set(#"{"status":"open","reopen":true}"#) == 409, "cancelled is final")
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func listingByOwnerOrStatusPagesThroughIndexes(backend: ServiceFixture.Backend) async throws {
        try await withItems(on: backend) { items in
            var adas: [String] = []
            for i in 0..<5 { adas.append(try #require(await items.create("a\(i)").json["id"]?.stringValue)) }
            for i in 0..<3 { _ = await items.create("b\(i)", as: "bob", extra: #","status":"done""#) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = await items.call(
                    "GET", "/items?owner=ada&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), authorizer: user("x"))
                #expect(page.status == 200)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                cursor = page.json["nextCursor"]?.stringValue
            } while cursor != nil
            #expect(seen == adas)
            let done = await items.call("GET", "/items?status=done", authorizer: user("x"))
            #expect(done.json["items"]?.arrayValue?.count == 3)
            #expect(
                await items.call("GET", "/items", authorizer: user("x")).status == 400, "owner or status is required")
            #expect(await items.call("GET", "/items?owner=a&status=open", authorizer: user("x")).status == 400)
            #expect(await items.call("GET", "/items?status=lost", authorizer: user("x")).status == 400)
            #expect(
                await items.call("GET", "/items?owner=", authorizer: user("x")).status == 400,
                "an empty owner is a 400, not a DynamoDB error")
            #expect(await items.call("GET", "/items?owner=ada&cursor=AAAA.BBBB", authorizer: user("x")).status == 400)
        }
    }

    @Test func expiredItemsDisappear() async throws {
        try await withItems { items in
            let expiry = Int(WallClock.nowMilliseconds() / 1000) + 4
            let id = try #require(
                await items.create("ephemeral", extra: #","expiresAt":\#(expiry)"#).json["id"]?.stringValue)
            #expect(await items.call("GET", "/items/\(id)", authorizer: user("ada")).status == 200)
            // Gone as soon as its time has passed (polled: the machine may be busy).
            var status = 200
            for _ in 0..<40 where status == 200 {
                try await Task.sleep(for: .milliseconds(250))
                status = await items.call("GET", "/items/\(id)", authorizer: user("ada")).status
            }
            #expect(status == 404)
            #expect(Int(WallClock.nowMilliseconds() / 1000) >= expiry, "not before its time")
            try await items.sweepExpired()
            #expect(await items.call("GET", "/items?owner=ada", authorizer: user("ada")).json["items"] == [])
        }
    }

    @Test func idempotentCreationUnderConcurrentRetries() async throws {
        try await withItems { items in
            let statuses = await withTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let reply = await items.call(
                            "POST", "/items", #"{"title":"once"}"#, headers: ["idempotency-key": "k-1"],
                            authorizer: user("ada"))
                        return (reply.status, reply.json["id"]?.stringValue)
                    }
                }
                return await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            let created = Set(statuses.compactMap { $0.0 == 201 ? $0.1 : nil })
            #expect(created.count == 1, "one item, whatever the number of retries: \(statuses)")
            #expect(statuses.allSatisfy { $0.0 == 201 || $0.0 == 409 }, "\(statuses)")
            #expect(
                await items.call("GET", "/items?owner=ada", authorizer: user("ada")).json["items"]?.arrayValue?.count
                    == 1)
        }
    }

    @Test func concurrentUpdatesWithIfMatchExactlyOneWins() async throws {
        try await withItems { items in
            let id = try #require(await items.create("contended").json["id"]?.stringValue)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await items.call(
                            "PATCH", "/items/\(id)", #"{"title":"writer \#(i)"}"#, headers: ["if-match": "\"1\""],
                            authorizer: user("ada")
                        ).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.filter { $0 == 412 }.count == 9, "\(statuses)")
        }
    }
}
