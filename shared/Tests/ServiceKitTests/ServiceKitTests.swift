import AWSCore
import DynamoDB
import DynamoDBModel
import HTTPAPI
import JSONCoding
import LocalDynamoDB
import ServiceKit
import Synchronization
import Testing

/// ServiceKit's own promises, apart from the services that use them: cursors a client cannot forge
/// or carry to another listing, If-Match as RFC 9110 defines it, sharded listings that return every
/// item exactly once, and the input checks every service relies on.
@Suite struct ServiceKitTests {
    /// The problem `body` throws, nil when it throws none.
    static func problem(_ body: () async throws -> Void) async -> HTTPProblem? {
        do {
            try await body()
            return nil
        } catch { return error as? HTTPProblem }
    }

    @Test func cursorsRoundTripAndRefuseAnythingElse() async throws {
        let codec = CursorCodec(secret: "secret-1")
        let key: Item = ["pk": .s("ITEM#1"), "owner": .s("ada")]
        let cursor = try #require(try await codec.encode(key, scope: "GET /items ada"))
        #expect(try await codec.decode(cursor, scope: "GET /items ada") == key)
        #expect(try await codec.encode(nil) == nil)
        #expect(try await codec.decode(nil) == nil)
        #expect(try await codec.decode("") == nil)

        let (payload, signature) = (String(cursor.split(separator: ".")[0]), String(cursor.split(separator: ".")[1]))
        let forged = Base64.encodeURL(Array(#"{"pk":{"S":"ITEM#2"}}"#.utf8)) + "." + signature
        for refused in [
            forged,  // another key under the old signature
            payload,  // no signature
            cursor + ".x",  // three parts
            cursor.replacingLastCharacter(),  // a flipped signature byte
            "!!!." + signature,  // not base64url
        ] {
            let problem = await Self.problem { _ = try await codec.decode(refused, scope: "GET /items ada") }
            #expect(problem?.status == 400, "\(refused)")
            #expect(problem?.errors.map { $0.pointer } == ["cursor"])
        }
        // Another caller's listing, or another deployment's secret: refused like a forgery.
        #expect(await Self.problem { _ = try await codec.decode(cursor, scope: "GET /items grace") }?.status == 400)
        let other = CursorCodec(secret: "secret-2")
        #expect(await Self.problem { _ = try await other.decode(cursor, scope: "GET /items ada") }?.status == 400)
    }

    @Test func aCursorSecretThatCannotBeHadIsA500AndIsAskedForAgain() async throws {
        struct Down: Error {}
        let attempts = Counter()
        let codec = CursorCodec(
            secret: LazySecret(name: "cursor") {
                if attempts.increment() == 1 { throw Down() }
                return "secret-1"
            })
        let problem = await Self.problem { _ = try await codec.encode(["pk": .s("A")]) }
        #expect(problem?.status == 500)
        #expect(try await codec.encode(["pk": .s("A")]) != nil)
        #expect(attempts.value == 2)
    }

    @Test(arguments: [
        (#"*"#, ETag.Precondition.exists),
        (#""3""#, .oneOf([#""3""#])),
        (#""1", W/"2" ,"3""#, .oneOf([#""1""#, #""3""#])),
        (#"W/"3""#, .oneOf([])),
        (#""bogus""#, .oneOf([#""bogus""#])),
    ])
    func ifMatchIsParsedAsRFC9110Says(header: String, expected: ETag.Precondition) throws {
        let request = HTTPRequest(method: "PUT", rawPath: "/items/1", headers: ["if-match": header])
        #expect(try ETag.precondition(request) == expected)
    }

    @Test func aMalformedIfMatchIsA400AndOnlyStrongTagsMatch() throws {
        for header in ["3", #""3"x"#, #""3",,"4""#, #""a"b""#, #"W/3"#, ""] {
            let request = HTTPRequest(method: "PUT", rawPath: "/items/1", headers: ["if-match": header])
            #expect(throws: HTTPProblem.self, "\(header)") { try ETag.precondition(request) }
        }
        #expect(ETag.Precondition.oneOf([#""3""#]).matches(version: 3))
        #expect(!ETag.Precondition.oneOf([#""3""#]).matches(version: 4))
        #expect(ETag.Precondition.exists.matches(version: 9))
    }

    @Test func shardedPagesReturnEveryItemOnceThroughCursors() async throws {
        let local = try LocalDynamoDB(path: ":memory:")
        let port = try await local.start(port: 0)
        do {
            try await Self.pageThroughShards(port: port)
        } catch {
            await local.stop()
            throw error
        }
        await local.stop()
    }

    static func pageThroughShards(port: Int) async throws {
        let db = try DynamoDBClient(
            environment: AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: "local", secretAccessKey: "local"), region: "local"),
            endpoint: "http://127.0.0.1:\(port)")
        let table = try JSON.decode(
            ServiceDeclaration.Table.self,
            from: try JSONValue.parse(
                #"{"partitionKey":{"name":"pk","type":"S"},"globalSecondaryIndexes":[{"name":"byShard","#
                    + #""partitionKey":{"name":"shard","type":"S","cardinality":"shards","shards":4},"#
                    + #""sortKey":{"name":"id","type":"S"},"projection":"ALL"}]}"#))
        try await db.createTable(table.createTableRequest(name: "things"))
        let index = ShardedIndex(name: "byShard", attribute: "shard", sortAttribute: "id", prefix: "thing", shards: 4)
        let ids = (0..<37).map { "id-\($0)" }
        for id in ids {
            try await db.putItem(
                table: "things", item: ["pk": .s("THING#\(id)"), "id": .s(id), "shard": index.shard(for: id)])
        }
        // Stable: the same id always lands on the same shard, and every shard is used.
        #expect(Set(ids.map { index.shard(for: $0) }).count == 4)
        #expect(index.shard(for: "id-5") == index.shard(for: "id-5"))

        let codec = CursorCodec(secret: "secret")
        var seen: [String] = []
        var cursor: String?
        repeat {
            let position = try await codec.decode(cursor, scope: "things")
            let page = try await index.page(db: db, table: "things", limit: 5, position: position)
            // Only the last page may be empty: DynamoDB returns a LastEvaluatedKey whenever a query
            // fills its limit, so the end is known one read later.
            #expect(page.items.count <= 5)
            #expect(!page.items.isEmpty || page.next == nil)
            seen += page.items.compactMap { $0["id"]?.stringValue }
            cursor = try await codec.encode(page.next, scope: "things")
        } while cursor != nil
        #expect(seen.count == ids.count)
        #expect(Set(seen) == Set(ids))
    }

    @Test func emailsAndLimitsAreCheckedAsServicesExpect() throws {
        #expect(Validator.isEmail("ada@example.com"))
        #expect(Validator.isEmail("josé@例え.jp"))
        for refused in [
            "ada", "@example.com", "ada@", "ada@example", "a@b@c.d", "ada@example..com", "ada lovelace@example.com",
            "ada\u{0}@example.com", "ada\t@example.com", "ad\u{202E}a@example.com", "ad\u{200B}a@example.com",
            String(repeating: "a", count: 250) + "@x.io",
        ] {
            #expect(!Validator.isEmail(refused), "\(refused.debugDescription)")
        }
        for (query, expected) in [("", 20), ("limit=1", 1), ("limit=100", 100)] {
            #expect(try pageLimit(HTTPRequest(method: "GET", rawPath: "/items", rawQueryString: query)) == expected)
        }
        for query in ["limit=0", "limit=101", "limit=ten", "limit=-1"] {
            #expect(throws: HTTPProblem.self) {
                try pageLimit(HTTPRequest(method: "GET", rawPath: "/items", rawQueryString: query))
            }
        }
    }
}

/// A count shared with a @Sendable closure.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}

extension String {
    /// The same text with its last character changed (a flipped signature byte, in base64url).
    func replacingLastCharacter() -> String { String(dropLast()) + (hasSuffix("A") ? "B" : "A") }
}
