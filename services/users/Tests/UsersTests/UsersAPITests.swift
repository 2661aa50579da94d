import AWSCore
import DynamoDB
import Foundation
import HTTPAPI
import JSONCoding
import LambdaRuntime
import Logging
import Platform
import ServiceKit
import ServiceTesting
import Testing

@testable import Users

let declarationPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("service.json").path

typealias Identity = ServiceFixture.Identity

/// Callers as the JWT authorizer passes them on: an ordinary user, another one, an admin.
func user(_ subject: String) -> Identity { Identity(subject, scopes: ["users.read", "users.write"]) }
let ada = user("ada")
let bob = user("bob")
let admin = Identity("ops", scopes: ["users.admin"])

/// The users API on a fresh in-memory local DynamoDB with its declared tables.
func withUsers(on backend: ServiceFixture.Backend = .local, _ body: (ServiceFixture) async throws -> Void) async throws
{
    try await ServiceFixture.with(UsersAPI.self, declarationPath: declarationPath, backend: backend, body)
}

extension ServiceFixture {
    func create(_ email: String, _ name: String = "Ada", as identity: Identity, headers: HTTPHeaders = [:]) async
        -> Reply
    {
        await call("POST", "/users", #"{"email":"\#(email)","name":"\#(name)"}"#, headers: headers, as: identity)
    }
}

@Suite struct UsersAPITests {
    @Test func declarationHandlersAndOpenAPIAgree() async throws {
        try await withUsers { users in
            let violations = try serviceContractViolations(declarationPath: declarationPath, router: users.router)
            #expect(violations == [])
        }
    }

    /// The index the code writes is the one service.json declares (its keys and shard count, which
    /// `make capacity` sizes and Terraform creates), read from the declaration the module embeds;
    /// a declaration without it is refused by name.
    @Test func theShardedIndexIsTheDeclaredOne() throws {
        let declaration = try ServiceDeclaration.load(path: declarationPath)
        let gsi = try #require(declaration.tables?["users"]?.globalSecondaryIndexes?.first { $0.name == "byShard" })
        #expect(Records.byShard.attribute == gsi.partitionKey.name)
        #expect(Records.byShard.sortAttribute == gsi.sortKey?.name)
        #expect(Records.byShard.shards == gsi.partitionKey.shards)
        #expect(Records.byShard.tableKey == [declaration.tables?["users"]?.partitionKey.name])
        let embedded = try JSONValue.parse(PackageResources.service_json)
        let onDisk = try JSONValue.parse(Array(try String(contentsOfFile: declarationPath, encoding: .utf8).utf8))
        #expect(embedded == onDisk)
        let unsharded = Array(
            (#"{"tables":{"t":{"partitionKey":{"name":"pk"},"globalSecondaryIndexes":[{"name":"g","#
                + #""partitionKey":{"name":"k","cardinality":"item"},"sortKey":{"name":"id"}}]}}}"#).utf8)
        for (declaration, table, index, refusal) in [
            (
                PackageResources.service_json, "users", "byOwner",
                "table users declares no global secondary index byOwner with a sort key"
            ),
            (unsharded, "t", "g", "g's partition key is not declared with cardinality shards and a shard count"),
            (PackageResources.service_json, "items", "byShard", "service.json declares no table items"),
        ] {
            #expect(throws: ShardedIndex.DeclarationError.self) {
                do {
                    _ = try ShardedIndex(declaration: declaration, table: table, index: index, prefix: "x")
                } catch {
                    #expect("\(error)" == refusal)
                    throw error
                }
            }
        }
    }

    @Test func everyRouteNeedsATokenAndItsScope() async throws {
        try await withUsers { users in
            for (method, path) in [
                ("POST", "/users"), ("GET", "/users"), ("GET", "/users/ada"), ("PUT", "/users/ada"),
                ("PATCH", "/users/ada"), ("DELETE", "/users/ada"),
            ] {
                #expect(await users.call(method, path, "{}", as: nil).status == 401, "\(method) \(path)")
            }
            let reader = Identity("ada", scopes: ["users.read"])
            #expect(await users.create("a@b.co", as: reader).status == 403, "creating takes users.write")
            #expect(await users.call("GET", "/users", as: ada).status == 403, "listing takes users.admin")
            #expect(await users.call("GET", "/users", as: admin).status == 200)
        }
    }

    @Test func aUserIsTheTokensSubject() async throws {
        try await withUsers { users in
            let created = await users.create("ada@example.com", as: ada)
            #expect(created.status == 201)
            #expect(created.json["id"] == "ada")
            #expect(created.headers["location"] == "/users/ada")
            let again = await users.create("other@example.com", as: ada)
            #expect(again.status == 409 && again.json["title"] == "User Exists")
            #expect(await users.call("GET", "/users/ada", as: ada).json["email"] == "ada@example.com")
        }
    }

    /// Another user's id is a 404 for every route, as a missing one (existence is not revealed);
    /// users.admin acts on anyone.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func callersReachOnlyTheirOwnUser(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            #expect(await users.create("ada@example.com", as: ada).status == 201)
            #expect(await users.create("bob@example.com", "Bob", as: bob).status == 201)
            #expect(await users.call("GET", "/users/ada", as: bob).status == 404)
            #expect(await users.call("PATCH", "/users/ada", #"{"name":"Mallory"}"#, as: bob).status == 404)
            #expect(
                await users.call("PUT", "/users/ada", #"{"email":"m@example.com","name":"M"}"#, as: bob).status == 404)
            #expect(await users.call("DELETE", "/users/ada", as: bob).status == 404)
            #expect(await users.call("GET", "/users/ada", as: ada).json["name"] == "Ada", "nothing changed")
            #expect(await users.call("GET", "/users/bob", as: admin).status == 200)
            #expect(await users.call("PATCH", "/users/bob", #"{"name":"Robert"}"#, as: admin).status == 200)
            #expect(await users.call("DELETE", "/users/bob", as: admin).status == 204)
        }
    }

    @Test(arguments: [
        (#"{"email":"nope","name":"Ada"}"#, ["/email"]), (#"{"email":"a@b.co","name":""}"#, ["/name"]),
        (#"{"email":"a@b.co","name":"\#(String(repeating: "x", count: 101))"}"#, ["/name"]),
        (#"{"email":"a@b.co","name":"Ada","admin":true}"#, ["/admin"]), (#"{"email":7,"name":"Ada"}"#, ["/email"]),
        (#"{"name":"Ada"}"#, ["/email"]), (#"{"email":"bad","name":" "}"#, ["/email", "/name"]),
        (#"{"email":"a@b.co","name":"Ada","id":"someone-else"}"#, ["/id"]),
    ])
    func invalidBodiesNameEachField(body: String, pointers: [String]) async throws {
        try await withUsers { users in
            let reply = await users.call("POST", "/users", body, as: ada)
            #expect(reply.status == 400)
            #expect(reply.headers["content-type"] == "application/problem+json")
            #expect(reply.json["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } == pointers)
        }
    }

    @Test func malformedJSONAndWrongContentType() async throws {
        try await withUsers { users in
            #expect(await users.call("POST", "/users", #"{"email":"#, as: ada).status == 400)
            #expect(
                await users.call(
                    "POST", "/users", #"{"email":"a@b.co","name":"A"}"#, headers: ["content-type": "text/plain"],
                    as: ada
                ).status == 415)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func emailsAreUniqueCaseInsensitivelyAcrossChangesAndDeletes(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            #expect(await users.create("Ada@Example.com", as: ada).status == 201)
            let duplicate = await users.create("ada@EXAMPLE.com", as: bob)
            #expect(duplicate.status == 409)
            #expect(duplicate.json["errors"]?.arrayValue?.first?["pointer"] == "/email")
            #expect(await users.create("bob@example.com", "Bob", as: bob).status == 201)
            // Bob cannot take Ada's email; Ada moves to a new one, freeing the old.
            #expect(await users.call("PATCH", "/users/bob", #"{"email":"ADA@example.com"}"#, as: bob).status == 409)
            let moved = await users.call("PATCH", "/users/ada", #"{"email":"lovelace@example.com"}"#, as: ada)
            #expect(moved.status == 200 && moved.headers["etag"] == "\"2\"")
            let cleo = user("cleo")
            #expect(await users.create("ada@example.com", "Ada II", as: cleo).status == 201)
            // Deleting frees the email too.
            #expect(await users.call("DELETE", "/users/bob", as: bob).status == 204)
            #expect(await users.call("GET", "/users/bob", as: bob).status == 404)
            #expect(await users.create("bob@example.com", "Bob II", as: user("dan")).status == 201)
        }
    }

    /// One person, one reservation: NFC and NFD spellings, case (Unicode's, "ß" as "ss") and the
    /// order of updates never make two, and a user stays deletable whatever sequence of updates
    /// changed only the form of the email.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func oneEmailHasOneFormWhateverItsSpelling(backend: ServiceFixture.Backend) async throws {
        let composed = "jos\u{E9}@example.com"
        let decomposed = "jose\u{301}@example.com"
        try await withUsers(on: backend) { users in
            #expect(await users.create(composed, as: ada).status == 201)
            for spelling in [decomposed, "JOSE\u{301}@EXAMPLE.COM", "Jos\u{C9}@example.com"] {
                #expect(
                    await users.create(spelling, "Bob", as: bob).status == 409,
                    "\(spelling.unicodeScalars.map(\.value))")
            }
            #expect(await users.create("stra\u{DF}e@example.com", "Bob", as: bob).status == 201)
            #expect(await users.create("STRASSE@example.com", "Cleo", as: user("cleo")).status == 409)
            // Only the form changes, with the name: the reservation stays the user's, and deleting
            // frees it (on today's code the old reservation outlived the change: DELETE was 409).
            let renamed = await users.call(
                "PATCH", "/users/ada", #"{"email":"\#(decomposed)","name":"José"}"#, as: ada)
            #expect(renamed.status == 200)
            #expect(renamed.json["email"]?.stringValue.map { Array($0.utf8) } == Array(composed.utf8), "stored in NFC")
            #expect(await users.call("PATCH", "/users/ada", #"{"email":"\#(decomposed)"}"#, as: ada).status == 200)
            #expect(await users.call("DELETE", "/users/ada", as: ada).status == 204)
            #expect(await users.create(decomposed, "Dan", as: user("dan")).status == 201, "the email is free again")
        }
    }

    @Test func anEmailWithControlOrInvisibleCharactersIsA400NamingIt() async throws {
        try await withUsers { users in
            for bad in [
                "a\\u0000b@example.com", "a\\tb@example.com", "a\u{202E}b@example.com", "a\u{200B}b@example.com",
            ] {
                let reply = await users.create(bad, as: ada)
                #expect(reply.status == 400, "\(bad)")
                #expect(reply.json["errors"]?.arrayValue?.first?["pointer"] == "/email")
            }
        }
    }

    /// The admin listing checks users.admin itself, behind the gateway's and RouteAccess's checks:
    /// a caller that reaches the handler without it (a misdeclared gateway) is refused.
    @Test func theDirectoryIsForAdminsEvenIfTheGatewayLetsAnotherCallerThrough() async throws {
        try await withUsers { users in
            #expect(await users.create("a@example.com", as: ada).status == 201)
            let reader = await users.call("GET", "/users", authorizer: ada.authorizer)
            #expect(reader.status == 403)
            #expect(reader.json["items"] == nil)
            #expect(await users.call("GET", "/users", authorizer: admin.authorizer).status == 200)
        }
    }

    /// DynamoDB's 400 KB item limit (ValidationException "Item size has exceeded the maximum allowed
    /// size", DYNAMODB_FACTS.md) is the client's problem, a 413, never a 500.
    @Test func anItemTooLargeToStoreIsA413() async throws {
        var router = Router()
        router.on("PUT /big") { _, _ in
            throw DynamoDBClientError.validation(message: "Item size has exceeded the maximum allowed size")
        }
        router.on("PUT /other") { _, _ in throw DynamoDBClientError.validation(message: "something else") }
        let context = LambdaContext(
            requestID: "r", deadlineMilliseconds: WallClock.nowMilliseconds() + 5_000, invokedFunctionARN: "arn",
            logger: Logger(label: "test"))
        let big = await router.respond(to: HTTPRequest(method: "PUT", rawPath: "/big"), context: context)
        #expect(big.status == 413 && big.headers["content-type"] == "application/problem+json")
        #expect(await router.respond(to: HTTPRequest(method: "PUT", rawPath: "/other"), context: context).status == 500)
    }

    /// RFC 9110 §13.1.1: a well-formed tag that does not match is a 412, `*` means "exists", weak
    /// tags never match (strong comparison), only a malformed header is a 400.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func ifMatchFollowsRFC9110(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            #expect(await users.create("c@example.com", as: ada).status == 201)
            func patch(_ ifMatch: String, _ name: String = "X") async -> ServiceFixture.Reply {
                await users.call(
                    "PATCH", "/users/ada", #"{"name":"\#(name)"}"#, headers: ["if-match": ifMatch], as: ada)
            }
            let renamed = await users.call(
                "PUT", "/users/ada", #"{"email":"c@example.com","name":"Cleo"}"#, headers: ["if-match": "\"1\""],
                as: ada)
            #expect(renamed.status == 200 && renamed.json["version"] == 2)
            let stale = await patch("\"1\"")
            #expect(stale.status == 412 && stale.headers["etag"] == "\"2\"")
            #expect(await patch("\"bogus\"").status == 412, "well-formed, unknown: 412")
            #expect(await patch("W/\"2\"").status == 412, "weak tags never match If-Match")
            #expect(await patch("yes").status == 400, "malformed: 400")
            #expect(await patch("\"2").status == 400)
            #expect(await patch("\"9\", \"2\"", "Listed").json["version"] == 3, "any tag of a list matches")
            #expect(await patch("*", "Star").json["version"] == 4)
            #expect(
                await users.call("PUT", "/users/ada", #"{"name":"Only name"}"#, as: ada).status == 400,
                "PUT replaces: every field is required")
            #expect(await users.call("DELETE", "/users/ada", headers: ["if-match": "\"1\""], as: ada).status == 412)
            #expect(await users.call("DELETE", "/users/ada", headers: ["if-match": "\"4\""], as: ada).status == 204)
            #expect(await patch("*").status == 412, "If-Match: * on a missing resource")
            #expect(await users.call("PATCH", "/users/ada", #"{"name":"Gone"}"#, as: ada).status == 404)
        }
    }

    @Test func ifNoneMatchOnGetIsA304() async throws {
        try await withUsers { users in
            #expect(await users.create("n@example.com", as: ada).status == 201)
            let same = await users.call("GET", "/users/ada", headers: ["if-none-match": "W/\"1\""], as: ada)
            #expect(same.status == 304 && same.headers["etag"] == "\"1\"")
            #expect(await users.call("GET", "/users/ada", headers: ["if-none-match": "\"7\""], as: ada).status == 200)
        }
    }

    /// The admin listing reads all 16 shards and merges them: every user exactly once across pages.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func adminListingPagesAcrossShardsWithSignedCursors(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            var ids: Set<String> = []
            for i in 0..<23 {
                let id = "user-\(i)"
                #expect(await users.create("u\(i)@example.com", as: user(id)).status == 201)
                ids.insert(id)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = await users.call("GET", "/users?limit=5" + (cursor.map { "&cursor=\($0)" } ?? ""), as: admin)
                #expect(page.status == 200)
                let items = page.json["items"]?.arrayValue ?? []
                #expect(items.count <= 5)
                seen += items.compactMap { $0["id"]?.stringValue }
                cursor = page.json["nextCursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 50
            #expect(seen.count == ids.count && Set(seen) == ids, "every user once: \(seen)")
            let first = await users.call("GET", "/users?limit=2", as: admin)
            let valid = try #require(first.json["nextCursor"]?.stringValue)
            // Every single-character change to the cursor must be refused.
            for position in [0, valid.count / 2, valid.count - 1] {
                var characters = Array(valid)
                characters[position] = characters[position] == "A" ? "B" : "A"
                #expect(
                    await users.call("GET", "/users?cursor=\(String(characters))", as: admin).status == 400,
                    "changed at \(position)")
            }
            #expect(await users.call("GET", "/users?cursor=garbage", as: admin).status == 400)
            #expect(await users.call("GET", "/users?limit=0", as: admin).status == 400)
            #expect(await users.call("GET", "/users?limit=101", as: admin).status == 400)
        }
    }

    /// Data-access paths: run against the local DynamoDB and against moto.
    @Test(arguments: ServiceFixture.Backend.allCases)
    func idempotentCreation(backend: ServiceFixture.Backend) async throws {
        try await withUsers(on: backend) { users in
            let key: HTTPHeaders = ["idempotency-key": "create-ada-1"]
            let first = await users.create("idem@example.com", as: ada, headers: key)
            let retry = await users.create("idem@example.com", as: ada, headers: key)
            #expect(first.status == 201 && retry.status == 201)
            #expect(retry.json == first.json, "the retry returns the first result")
            #expect(retry.headers["idempotent-replayed"] == "true")
            #expect(retry.headers["etag"] == first.headers["etag"])
            // The same key from another caller is independent: it runs (and creates Bob).
            let other = await users.create("bob@example.com", "Bob", as: bob, headers: key)
            #expect(other.status == 201 && other.json["id"] == "bob" && other.headers["idempotent-replayed"] == nil)
            let reused = await users.create("other@example.com", "B", as: ada, headers: key)
            #expect(reused.status == 422)
            // A failed request is not remembered: fixing it and retrying with the key works.
            let badKey: HTTPHeaders = ["idempotency-key": "k2"]
            #expect(await users.create("bad", as: user("cleo"), headers: badKey).status == 400)
            #expect(await users.create("cleo@example.com", as: user("cleo"), headers: badKey).status == 201)
        }
    }

    @Test func concurrentUpdatesWithIfMatchExactlyOneWins() async throws {
        try await withUsers { users in
            #expect(await users.create("race@example.com", as: ada).status == 201)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await users.call(
                            "PATCH", "/users/ada", #"{"name":"Writer \#(i)"}"#, headers: ["if-match": "\"1\""], as: ada
                        ).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 412 }.count == 9, "\(statuses)")
            #expect(await users.call("GET", "/users/ada", as: ada).json["version"] == 2)
        }
    }

    @Test func concurrentUpdatesWithoutIfMatchLoseNothing() async throws {
        try await withUsers { users in
            #expect(await users.create("many@example.com", as: ada).status == 201)
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        await users.call("PATCH", "/users/ada", #"{"name":"Writer \#(i)"}"#, as: ada).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let succeeded = statuses.filter { $0 == 200 }.count
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
            #expect(
                await users.call("GET", "/users/ada", as: ada).json["version"] == .number(String(1 + succeeded)),
                "each success is one version")
        }
    }

    @Test func concurrentCreatesWithOneEmailExactlyOneSucceeds() async throws {
        try await withUsers { users in
            let statuses = await withTaskGroup(of: Int.self) { group in
                for i in 0..<10 {
                    group.addTask {
                        await users.create(
                            i.isMultiple(of: 2) ? "same@example.com" : "SAME@example.com", as: user("u\(i)")
                        ).status
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 9, "\(statuses)")
        }
    }
}
