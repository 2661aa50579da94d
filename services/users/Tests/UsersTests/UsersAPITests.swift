import AWSCore
import DynamoDB
import Foundation
import HTTPAPI
import JSONCoding
import LambdaRuntime
import ServiceKit
import ServiceTesting
import Testing

@testable import Users

let declarationPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("service.json").path

/// The users API on a fresh in-memory local DynamoDB with its declared tables.
func withUsers(on backend: ServiceFixture.Backend = .local, _ body: (ServiceFixture) async throws -> Void) async throws
{
    try await ServiceFixture.with(
        declarationPath: declarationPath, backend: backend,
        makeRouter: { UsersAPI(db: $0, table: "users", cursorSecret: "test-secret").router }, body)
}

extension ServiceFixture {
    func create(_ email: String, _ name: String = "Ada") async -> Reply {
        await call("POST", "/users", #"{"email":"\#(email)","name":"\#(name)"}"#)
    }
}

@Suite struct UsersAPITests {
    @Test func declarationHandlersAndOpenAPIAgree() async throws {
        try await withUsers { users in
            let violations = try serviceContractViolations(declarationPath: declarationPath, router: users.router)
            #expect(violations == [])
        }
    }

    @Test(arguments: [
        (#"{"email":"nope","name":"Ada"}"#, ["/email"]), (#"{"email":"a@b.co","name":""}"#, ["/name"]),
        (#"{"email":"a@b.co","name":"\#(String(repeating: "x", count: 101))"}"#, ["/name"]),
        (#"{"email":"a@b.co","name":"Ada","admin":true}"#, ["/admin"]), (#"{"email":7,"name":"Ada"}"#, ["/email"]),
        (#"{"name":"Ada"}"#, ["/email"]), (#"{"email":"bad","name":" "}"#, ["/email", "/name"]),
    ])
    func invalidBodiesNameEachField(body: String, pointers: [String]) async throws {
        try await withUsers { users in
            let reply = await users.call("POST", "/users", body)
            #expect(reply.status == 400)
            #expect(reply.headers["content-type"] == "application/problem+json")
            #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == pointers)
        }
    }

    @Test func malformedJSONAndWrongContentType() async throws {
        try await withUsers { users in
            #expect(await users.call("POST", "/users", #"{"email":"#).status == 400)
            #expect(
                await users.call(
                    "POST", "/users", #"{"email":"a@b.co","name":"A"}"#, headers: ["content-type": "text/plain"]
                ).status == 415)
            #expect(await users.call("DELETE", "/users").status == 405)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func emailsAreUniqueCaseInsensitivelyAcrossChangesAndDeletes(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            let ada = await users.create("Ada@Example.com")
            let adaID = try #require(ada.json["id"]?.stringValue)
            let duplicate = await users.create("ada@EXAMPLE.com")
            #expect(duplicate.status == 409)
            #expect(duplicate.json["errors"]?.arrayValue?.first?["pointer"] == "/email")
            let bob = await users.create("bob@example.com", "Bob")
            let bobID = try #require(bob.json["id"]?.stringValue)
            // Bob cannot take Ada's email; Ada moves to a new one, freeing the old.
            #expect(await users.call("PATCH", "/users/\(bobID)", #"{"email":"ADA@example.com"}"#).status == 409)
            let moved = await users.call("PATCH", "/users/\(adaID)", #"{"email":"lovelace@example.com"}"#)
            #expect(moved.status == 200 && moved.headers["etag"] == "\"2\"")
            #expect(await users.create("ada@example.com", "Ada II").status == 201)
            // Deleting frees the email too.
            #expect(await users.call("DELETE", "/users/\(bobID)").status == 204)
            #expect(await users.call("GET", "/users/\(bobID)").status == 404)
            #expect(await users.create("bob@example.com", "Bob II").status == 201)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func ifMatchIsHonoured(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            let id = try #require(await users.create("c@example.com").json["id"]?.stringValue)
            let renamed = await users.call(
                "PUT", "/users/\(id)", #"{"email":"c@example.com","name":"Cleo"}"#, headers: ["if-match": "\"1\""])
            #expect(renamed.status == 200 && renamed.json["version"] == 2)
            let stale = await users.call("PATCH", "/users/\(id)", #"{"name":"Late"}"#, headers: ["if-match": "\"1\""])
            #expect(stale.status == 412)
            #expect(stale.headers["etag"] == "\"2\"")
            #expect(
                await users.call("PATCH", "/users/\(id)", #"{"name":"X"}"#, headers: ["if-match": "yes"]).status == 400)
            #expect(
                await users.call("PUT", "/users/\(id)", #"{"name":"Only name"}"#).status == 400,
                "PUT replaces: every field is required")
            #expect(await users.call("DELETE", "/users/\(id)", headers: ["if-match": "\"1\""]).status == 412)
            #expect(await users.call("DELETE", "/users/\(id)", headers: ["if-match": "\"2\""]).status == 204)
            #expect(await users.call("PATCH", "/users/\(id)", #"{"name":"Gone"}"#).status == 404)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func listingPagesWithSignedCursors(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            var ids: [String] = []
            for i in 0..<7 { ids.append(try #require(await users.create("u\(i)@example.com").json["id"]?.stringValue)) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = await users.call("GET", "/users?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.status == 200)
                let items = page.json["items"]?.arrayValue ?? []
                #expect(items.count <= 3)
                seen += items.compactMap { $0["id"]?.stringValue }
                cursor = page.json["nextCursor"]?.stringValue
            } while cursor != nil
            #expect(seen == ids, "every user once, in creation order")
            let first = await users.call("GET", "/users?limit=2")
            let valid = try #require(first.json["nextCursor"]?.stringValue)
            // Every single-character change to the cursor must be refused.
            for position in [0, valid.count / 2, valid.count - 1] {
                var characters = Array(valid)
                characters[position] = characters[position] == "A" ? "B" : "A"
                #expect(
                    await users.call("GET", "/users?cursor=\(String(characters))").status == 400,
                    "changed at \(position)")
            }
            let tampered = String(valid.dropLast()) + (valid.last == "A" ? "B" : "A")
            let rejected = await users.call("GET", "/users?cursor=\(tampered)")
            #expect(rejected.status == 400 && rejected.json["errors"]?.arrayValue?.first?["pointer"] == "cursor")
            #expect(await users.call("GET", "/users?cursor=garbage").status == 400)
            #expect(await users.call("GET", "/users?limit=0").status == 400)
            #expect(await users.call("GET", "/users?limit=101").status == 400)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func idempotentCreation(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            let key: HTTPHeaders = ["idempotency-key": "create-ada-1"]
            let body = #"{"email":"idem@example.com","name":"Ada"}"#
            let first = await users.call("POST", "/users", body, headers: key)
            let retry = await users.call("POST", "/users", body, headers: key)
            #expect(first.status == 201 && retry.status == 201)
            #expect(retry.json == first.json, "the retry returns the first result")
            #expect(retry.headers["idempotent-replayed"] == "true")
            #expect(retry.headers["etag"] == first.headers["etag"])
            let listed = await users.call("GET", "/users")
            #expect(listed.json["items"]?.arrayValue?.count == 1, "nothing was created twice")
            let reused = await users.call("POST", "/users", #"{"email":"other@example.com","name":"B"}"#, headers: key)
            #expect(reused.status == 422)
            // A failed request is not remembered: fixing it and retrying with the key works.
            let badKey: HTTPHeaders = ["idempotency-key": "k2"]
            #expect(await users.call("POST", "/users", #"{"email":"bad","name":"B"}"#, headers: badKey).status == 400)
            #expect(await users.call("POST", "/users", #"{"email":"bad","name":"B"}"#, headers: badKey).status == 400)
        }
    }

    @Test func concurrentUpdatesWithIfMatchExactlyOneWins() async throws {
        try await withUsers { users in
            let id = try #require(await users.create("race@example.com").json["id"]?.stringValue)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await users.call(
                            "PATCH", "/users/\(id)", #"{"name":"Writer \#(i)"}"#, headers: ["if-match": "\"1\""]
                        ).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 412 }.count == 9, "\(statuses)")
            #expect(await users.call("GET", "/users/\(id)").json["version"] == 2)
        }
    }

    @Test func concurrentUpdatesWithoutIfMatchLoseNothing() async throws {
        try await withUsers { users in
            let id = try #require(await users.create("many@example.com").json["id"]?.stringValue)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask { await users.call("PATCH", "/users/\(id)", #"{"name":"Writer \#(i)"}"#).status }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let succeeded = statuses.filter { $0 == 200 }.count
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
            #expect(
                await users.call("GET", "/users/\(id)").json["version"] == .number(String(1 + succeeded)),
                "each success is one version")
        }
    }

    @Test func concurrentCreatesWithOneEmailExactlyOneSucceeds() async throws {
        try await withUsers { users in
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await users.create(i.isMultiple(of: 2) ? "same@example.com" : "SAME@example.com").status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 9, "\(statuses)")
        }
    }
}
