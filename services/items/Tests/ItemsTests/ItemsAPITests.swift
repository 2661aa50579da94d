import DynamoDB
import DynamoDBModel
import Foundation
import HTTPAPI
import JSONCoding
import Platform
import ServiceKit
import ServiceTesting
import Testing

@testable import Items

let declarationPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("service.json").path

func withItems(on backend: ServiceFixture.Backend = .local, _ body: (ServiceFixture) async throws -> Void) async throws
{
    try await ServiceFixture.with(ItemsAPI.self, declarationPath: declarationPath, backend: backend, body)
}

/// A caller as API Gateway's JWT authorizer presents it; the fixture enforces the routes' scopes.
func user(_ subject: String) -> ServiceFixture.Identity {
    ServiceFixture.Identity(subject, scopes: ["items.read", "items.write"])
}
let admin = ServiceFixture.Identity("ops", scopes: ["items.admin"])

extension ServiceFixture {
    func create(_ title: String, as owner: String = "ada", extra: String = "") async -> Reply {
        await call("POST", "/items", #"{"title":"\#(title)"\#(extra)}"#, as: user(owner))
    }
}

@Suite struct ItemsAPITests {
    /// Limits count code points, as the schema's maxLength does, so they bound the bytes stored (at
    /// most 4 per code point): 2,000 characters of one letter under stacked combining marks are one
    /// grapheme cluster per letter but 2,001 code points are refused, however they cluster.
    @Test func theDescriptionLimitBoundsItsBytes() async throws {
        try await withItems { items in
            let stacked = String(repeating: "e" + String(repeating: "\u{301}", count: 99), count: 20)
            #expect(stacked.count == 20 && stacked.unicodeScalars.count == 2_000)
            #expect(await items.create("Stacked", extra: #","description":"\#(stacked)""#).status == 201)
            let one = stacked + "\u{301}"
            let over = await items.create("Stacked", extra: #","description":"\#(one)""#)
            #expect(over.status == 400)
            #expect(over.json["errors"]?.arrayValue?.first?["pointer"] == "/description")
        }
    }

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
            #expect(await items.call("GET", "/items/\(id)", as: user("ada")).status == 200)
            #expect(await items.call("GET", "/items/01ARZ3NDEKTSV4RRFFQ69G5FAV", as: user("ada")).status == 404)
            #expect(
                await items.call("PATCH", "/items/\(id)", #"{"title":"Mine now"}"#, as: user("bob")).status
                    == 404, "another owner's item is not revealed")
            let patched = await items.call(
                "PATCH", "/items/\(id)", #"{"description":"draft","status":"in_progress"}"#,
                headers: ["if-match": "\"1\""], as: user("ada"))
            #expect(
                patched.status == 200 && patched.json["status"] == "in_progress" && patched.headers["etag"] == "\"2\"")
            #expect(
                await items.call(
                    "PATCH", "/items/\(id)", #"{"title":"late"}"#, headers: ["if-match": "\"1\""],
                    as: user("ada")
                ).status == 412)
            #expect(
                await items.call("PUT", "/items/\(id)", #"{"title":"No status"}"#, as: user("ada")).status
                    == 400)
            let replaced = await items.call(
                "PUT", "/items/\(id)", #"{"title":"Final report","status":"in_progress"}"#, as: user("ada"))
            #expect(
                replaced.status == 200 && replaced.json["description"] == nil, "PUT replaces: the description is gone")
            #expect(
                await items.call("PATCH", "/items/\(id)", #"{"status":"archived"}"#, as: user("ada")).status
                    == 400)
            #expect(await items.call("DELETE", "/items/\(id)", as: user("bob")).status == 404)
            #expect(
                await items.call("DELETE", "/items/\(id)", headers: ["if-match": "\"1\""], as: user("ada"))
                    .status == 412)
            #expect(await items.call("DELETE", "/items/\(id)", as: user("ada")).status == 204)
            #expect(await items.call("GET", "/items/\(id)", as: user("ada")).status == 404)
        }
    }

    @Test(arguments: [
        (#"{"title":""}"#, ["/title"]), (#"{}"#, ["/title"]), (#"{"title":"x","status":"nope"}"#, ["/status"]),
        (#"{"title":"x","expiresAt":5}"#, ["/expiresAt"]), (#"{"title":"x","extra":1}"#, ["/extra"]),
        (#"{"title":"x","reopen":true}"#, ["/reopen"]), (#"{"title":7}"#, ["/title"]),
    ])
    func invalidBodiesNameTheField(body: String, pointers: [String]) async throws {
        try await withItems { items in
            let reply = await items.call("POST", "/items", body, as: user("ada"))
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
                await items.call("PATCH", "/items/\(id)", body, as: user("ada")).status
            }
            #expect(await set(#"{"status":"done"}"#) == 200)
            let refused = await items.call("PATCH", "/items/\(id)", #"{"status":"open"}"#, as: user("ada"))
            #expect(refused.status == 409 && refused.json["errors"]?.arrayValue?.first?["pointer"] == "/status")
            #expect(await set(#"{"status":"open","reopen":true}"#) == 200, "done re-opens only with the explicit rule")
            #expect(await set(#"{"status":"cancelled"}"#) == 200)
            #expect(await set(#"{"status":"open","reopen":true}"#) == 409, "cancelled is final")
        }
    }

    /// Items are private: another owner's item is a 404 on every route, as a missing one.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func itemsArePrivateToTheirOwner(backend: ServiceFixture.Backend) async throws {
        try await withItems(on: backend) { items in
            let id = try #require(await items.create("Ada's").json["id"]?.stringValue)
            let bob = user("bob")
            #expect(await items.call("GET", "/items/\(id)", as: bob).status == 404)
            #expect(await items.call("PUT", "/items/\(id)", #"{"title":"x","status":"open"}"#, as: bob).status == 404)
            #expect(await items.call("PATCH", "/items/\(id)", #"{"title":"x"}"#, as: bob).status == 404)
            #expect(await items.call("DELETE", "/items/\(id)", as: bob).status == 404)
            #expect(await items.call("GET", "/items", as: bob).json["items"] == [], "bob lists only his own")
            #expect(await items.call("GET", "/items?status=open", as: bob).json["items"] == [])
            let other = await items.call("GET", "/items?owner=ada", as: bob)
            #expect(other.status == 403, "listing another owner's items takes items.admin")
            #expect(await items.call("GET", "/items/\(id)", as: admin).status == 200)
            #expect(await items.call("GET", "/items?owner=ada", as: admin).json["items"]?.arrayValue?.count == 1)
            #expect(await items.call("GET", "/items/\(id)", as: user("ada")).json["title"] == "Ada's", "unchanged")
            #expect(await items.call("GET", "/items", as: nil).status == 401)
            #expect(await items.call("POST", "/items", "{}", as: admin).status == 403, "creating takes items.write")
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func listingTheCallersItemsByStatusPagesThroughIndexes(backend: ServiceFixture.Backend) async throws {
        try await withItems(on: backend) { items in
            var adas: [String] = []
            for i in 0..<5 { adas.append(try #require(await items.create("a\(i)").json["id"]?.stringValue)) }
            for i in 0..<3 { _ = await items.create("b\(i)", as: "bob", extra: #","status":"done""#) }
            let adaDone = try #require(
                await items.create("a-done", extra: #","status":"done""#).json["id"]?.stringValue)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = await items.call(
                    "GET", "/items?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), as: user("ada"))
                #expect(page.status == 200)
                seen += page.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                cursor = page.json["nextCursor"]?.stringValue
            } while cursor != nil
            #expect(seen == adas + [adaDone])
            let done = await items.call("GET", "/items?status=done", as: user("ada"))
            #expect(done.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [adaDone])
            let open = await items.call("GET", "/items?status=open&limit=3", as: user("ada"))
            #expect(open.json["items"]?.arrayValue?.count == 3)
            let next = try #require(open.json["nextCursor"]?.stringValue)
            #expect(
                await items.call("GET", "/items?status=open&cursor=\(next)", as: user("ada")).json["items"]?.arrayValue?
                    .count == 2)
            #expect(
                await items.call("GET", "/items?status=open&cursor=\(next)", as: user("bob")).status == 400,
                "a cursor serves only the listing that issued it")
            #expect(
                await items.call("GET", "/items?status=done&cursor=\(next)", as: user("ada")).status == 400,
                "nor another filter")
            #expect(await items.call("GET", "/items?status=lost", as: user("x")).status == 400)
            #expect(
                await items.call("GET", "/items?owner=", as: user("x")).status == 400,
                "an empty owner is a 400, not a DynamoDB error")
            #expect(await items.call("GET", "/items?cursor=AAAA.BBBB", as: user("x")).status == 400)
            let bobsDone = await items.call("GET", "/items?owner=bob&status=done", as: admin)
            #expect(bobsDone.json["items"]?.arrayValue?.count == 3)
        }
    }

    @Test func expiredItemsDisappear() async throws {
        try await withItems { items in
            let expiry = Int(WallClock.nowMilliseconds() / 1000) + 4
            let id = try #require(
                await items.create("ephemeral", extra: #","expiresAt":\#(expiry)"#).json["id"]?.stringValue)
            #expect(await items.call("GET", "/items/\(id)", as: user("ada")).status == 200)
            // Gone as soon as its time has passed (polled: the machine may be busy).
            var status = 200
            for _ in 0..<40 where status == 200 {
                try await Task.sleep(for: .milliseconds(250))
                status = await items.call("GET", "/items/\(id)", as: user("ada")).status
            }
            #expect(status == 404)
            #expect(Int(WallClock.nowMilliseconds() / 1000) >= expiry, "not before its time")
            // Not swept yet (DynamoDB takes up to days): the store still has it, the API does not.
            #expect(try await items.db.getItem(table: "items", key: ["pk": .s("ITEM#\(id)")]) != nil)
            #expect(await items.call("GET", "/items", as: user("ada")).json["items"] == [])
            #expect(await items.call("GET", "/items/export", as: user("ada")).body.isEmpty)
            #expect(await items.call("PATCH", "/items/\(id)", #"{"title":"x"}"#, as: user("ada")).status == 404)
            try await items.sweepExpired()
            #expect(try await items.db.getItem(table: "items", key: ["pk": .s("ITEM#\(id)")]) == nil)
        }
    }

    @Test func idempotentCreationUnderConcurrentRetries() async throws {
        try await withItems { items in
            let statuses = await withTaskGroup(of: (Int, String?).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let reply = await items.call(
                            "POST", "/items", #"{"title":"once"}"#, headers: ["idempotency-key": "k-1"],
                            as: user("ada"))
                        return (reply.status, reply.json["id"]?.stringValue)
                    }
                }
                return await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            let created = Set(statuses.compactMap { $0.0 == 201 ? $0.1 : nil })
            #expect(created.count == 1, "one item, whatever the number of retries: \(statuses)")
            #expect(statuses.allSatisfy { $0.0 == 201 || $0.0 == 409 }, "\(statuses)")
            #expect(await items.call("GET", "/items", as: user("ada")).json["items"]?.arrayValue?.count == 1)
            // The same key from another caller is its own request: it creates Bob's item.
            let bobs = await items.call(
                "POST", "/items", #"{"title":"once"}"#, headers: ["idempotency-key": "k-1"], as: user("bob"))
            #expect(bobs.status == 201 && bobs.headers["idempotent-replayed"] == nil)
            #expect(!created.contains(bobs.json["id"]?.stringValue ?? ""))
        }
    }

    /// A request that died after writing its pending record (a crashed or timed-out invocation)
    /// blocks the key only until its lease ends.
    @Test func aCrashedRequestsKeyIsFreeAfterItsLease() async throws {
        try await withItems { items in
            let body = #"{"title":"after a crash"}"#
            let request = HTTPRequest(method: "POST", rawPath: "/items", body: Array(body.utf8))
            let key = IdempotencyStore.recordKey(caller: "ada", route: "POST /items", key: "crash-1")
            let now = Int(WallClock.nowMilliseconds() / 1000)
            let fingerprint = IdempotencyStore.fingerprint(request)
            try await items.db.putItem(
                table: "items",
                item: IdempotencyStore.pendingRecord(key, fingerprint: fingerprint, leaseUntil: now + 60))
            let during = await items.call(
                "POST", "/items", body, headers: ["idempotency-key": "crash-1"], as: user("ada"))
            #expect(during.status == 409, "the lease still runs")
            try await items.db.putItem(
                table: "items", item: IdempotencyStore.pendingRecord(key, fingerprint: fingerprint, leaseUntil: now - 1)
            )
            let after = await items.call(
                "POST", "/items", body, headers: ["idempotency-key": "crash-1"], as: user("ada"))
            #expect(after.status == 201, "the lease ended: the retry runs")
            let replay = await items.call(
                "POST", "/items", body, headers: ["idempotency-key": "crash-1"], as: user("ada"))
            #expect(replay.status == 201 && replay.json["id"] == after.json["id"])
        }
    }

    /// A record past its 24-hour TTL is gone even before DynamoDB's sweep deletes it: the key runs
    /// the request again instead of replaying a day-old answer.
    @Test func anExpiredIdempotencyRecordIsAbsent() async throws {
        try await withItems { items in
            let body = #"{"title":"yesterday"}"#
            let first = await items.call("POST", "/items", body, headers: ["idempotency-key": "day-1"], as: user("ada"))
            #expect(first.status == 201)
            let key = IdempotencyStore.recordKey(caller: "ada", route: "POST /items", key: "day-1")
            let now = Int(WallClock.nowMilliseconds() / 1000)
            try await items.db.updateItem(
                table: "items", key: key, update: Update().set("expiresAt", .n(DynamoNumber(now - 1))),
                returnValues: .none)
            let again = await items.call("POST", "/items", body, headers: ["idempotency-key": "day-1"], as: user("ada"))
            #expect(again.status == 201 && again.headers["idempotent-replayed"] == nil)
            #expect(again.json["id"] != first.json["id"], "run again, not replayed")
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
                            as: user("ada")
                        ).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.filter { $0 == 412 }.count == 9, "\(statuses)")
        }
    }

    /// The record's attributes cannot collide with a table's index keys: on a table whose string-typed
    /// index keys carry the names records used to write (`status`, `state`, `body`, `fingerprint`),
    /// the records are still written, on a local DynamoDB that refuses wrongly typed index keys as
    /// DynamoDB does (Developer Guide, "Global secondary indexes"; see IndexKeyTypeTests).
    @Test func recordsWriteUnderTablesIndexedOnCommonNames() async throws {
        try await withItems { items in
            let names = ["status", "state", "body", "fingerprint"]
            let attributes: [JSONValue] =
                [["AttributeName": "pk", "AttributeType": "S"]]
                + names.map { ["AttributeName": .string($0), "AttributeType": "S"] }
            try await items.db.createTable([
                "TableName": "collide", "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [["AttributeName": "pk", "KeyType": "HASH"]], "AttributeDefinitions": .array(attributes),
                "GlobalSecondaryIndexes": .array(
                    names.map {
                        [
                            "IndexName": .string("by-\($0)"),
                            "KeySchema": [["AttributeName": .string($0), "KeyType": "HASH"]],
                            "Projection": ["ProjectionType": "KEYS_ONLY"],
                        ]
                    }),
            ])
            let store = IdempotencyStore(db: items.db, table: "collide")
            let request = HTTPRequest(
                method: "POST", rawPath: "/things", headers: ["idempotency-key": "same"], body: Array("{}".utf8),
                routeKey: "POST /things")
            let first = try await store.run(request, caller: "ada") {
                HTTPResponse(status: 201, body: Array("{}".utf8))
            }
            let replayed = try await store.run(request, caller: "ada") { HTTPResponse(status: 500) }
            #expect(first.status == 201 && replayed.status == 201 && replayed.headers["idempotent-replayed"] == "true")
        }
    }
}
