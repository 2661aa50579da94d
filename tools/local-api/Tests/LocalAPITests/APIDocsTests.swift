import Foundation
import JSONCoding
import LocalAPI
import LoopbackHTTP
import Testing

/// What /_docs/ serves: the page, Swagger UI's named files and each service's document pointed at
/// this gateway; nothing else from the disk. (ci/docs_check.py drives the page in Chromium.)
@Suite struct APIDocsTests {
    /// Stand-ins for swagger-ui-py's static files, and a file beside them that must stay unreachable.
    static func docs(token: @escaping @Sendable () throws -> String = { "dev-token" }) throws -> APIDocs {
        let assets = FileManager.default.temporaryDirectory.appendingPathComponent("api-docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
        for name in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"] {
            try Data("/* \(name) */".utf8).write(to: assets.appendingPathComponent(name))
        }
        try Data("secret".utf8).write(to: assets.appendingPathComponent("private.txt"))
        return try APIDocs(assets: assets.path, root: repositoryRoot, services: LocalAPI.serviceNames, token: token)
    }

    static func get(_ docs: APIDocs, _ uri: String, method: String = "GET") -> ServerResponse? {
        docs.answer(ServerRequest(method: method, uri: uri))
    }

    @Test func servesThePageSwaggerUIsFilesAndEveryDocument() throws {
        let docs = try Self.docs()
        #expect(Self.get(docs, "/_docs")?.status == 308)
        #expect(Self.get(docs, "/_docs/?urls.primaryName=items")?.status == 200)
        #expect(
            Self.get(docs, "/_docs/swagger-ui-bundle.js").map { String(decoding: $0.body, as: UTF8.self) }
                == "/* swagger-ui-bundle.js */")
        for service in LocalAPI.serviceNames {
            let answer = try #require(Self.get(docs, "/_docs/openapi/\(service).json"))
            let document = try JSONValue.parse(answer.body)
            // Try it out calls the gateway that serves the page, whatever the document names.
            #expect(document["servers"] == [["url": "/", "description": "make run: the local API Gateway"]])
            #expect(document["paths"]?.objectValue?.isEmpty == false)
        }
        let script = String(decoding: try #require(Self.get(docs, "/_docs/init.js")).body, as: UTF8.self)
        #expect(script.contains(#""Bearer " + "dev-token""#))
        #expect(script.contains(#""url":"/_docs/openapi/users.json""#))
    }

    @Test func nothingElseIsReachable() throws {
        let docs = try Self.docs()
        for uri in [
            "/_docs/private.txt", "/_docs/../Package.swift", "/_docs/%2e%2e/Package.swift", "/_docs/openapi/nope.json",
        ] {
            #expect(Self.get(docs, uri)?.status == 404, "\(uri)")
        }
        #expect(Self.get(docs, "/_docs/init.js", method: "POST")?.status == 405)
        // Not under /_docs/: the gateway routes it as usual.
        #expect(Self.get(docs, "/users") == nil)
        #expect(Self.get(docs, "/_docsx") == nil)
    }

    @Test func aTokenThatCannotBeMadeIsSaidOnThePage() throws {
        struct NoKey: Error, CustomStringConvertible { var description: String { "no development key" } }
        let docs = try Self.docs(token: { throw NoKey() })
        let script = String(decoding: try #require(Self.get(docs, "/_docs/init.js")).body, as: UTF8.self)
        #expect(script == #"throw new Error("no development token: no development key");"#)
    }
}
