import Foundation
import HTTPAPI
import JSONCoding
import LoopbackHTTP

/// `make run`'s API documentation under /_docs/: Swagger UI over every service's OpenAPI document,
/// whose "Try it out" calls this gateway signed in with a development token. Swagger UI's files
/// come from the pinned swagger-ui-py package (make run installs it), read once at start and
/// served from memory, so nothing is fetched at run time and no other file can be asked for.
public struct APIDocs: Sendable {
    public static let path = "/_docs/"

    /// The Swagger UI files the page loads, with their content types.
    static let assets = [
        "swagger-ui.css": "text/css; charset=utf-8",
        "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
        "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
        "favicon-32x32.png": "image/png",
    ]

    private let files: [String: ServerResponse]
    private let urls: [JSONValue]
    private let token: @Sendable () throws -> String

    /// `assets`: swagger-ui-py's directory of Swagger UI files; `token`: a development token,
    /// fresh for each page load, sent with every call the page makes unless the user authorizes
    /// with another.
    public init(
        assets directory: String, root: String, services: [String], token: @escaping @Sendable () throws -> String
    ) throws {
        var files: [String: ServerResponse] = [:]
        for (name, contentType) in Self.assets {
            guard let body = FileManager.default.contents(atPath: "\(directory)/\(name)") else {
                throw RegistrationError(
                    description:
                        "\(directory)/\(name) is missing: --docs takes swagger-ui-py's Swagger UI directory")
            }
            files[name] = Self.file(contentType, Array(body))
        }
        var urls: [JSONValue] = []
        for service in services {
            let path = "\(root)/services/\(service)/openapi.json"
            guard var document = try JSONValue.parse(try FileBytes.read(path)).objectValue else {
                throw RegistrationError(description: "\(path) is not a JSON object")
            }
            // "Try it out" calls this gateway, whatever servers the document names for deployments.
            document["servers"] = [["url": "/", "description": "make run: the local API Gateway"]]
            files["openapi/\(service).json"] = Self.file("application/json", JSONValue.object(document).serialized())
            urls.append(["url": .string("\(Self.path)openapi/\(service).json"), "name": .string(service)])
        }
        files[""] = Self.file("text/html; charset=utf-8", Array(Self.page.utf8))
        self.files = files
        self.urls = urls
        self.token = token
    }

    /// The answer for a request under /_docs/, nil for any other path.
    public func answer(_ request: ServerRequest) -> ServerResponse? {
        let path = request.path
        if path == "/_docs" { return ServerResponse(status: 308, headers: [("location", Self.path)]) }
        guard path.hasPrefix(Self.path) else { return nil }
        guard request.method == "GET" else { return ServerResponse(status: 405, headers: [("allow", "GET")]) }
        let name = String(path.dropFirst(Self.path.count))
        if name == "init.js" {
            do {
                return Self.file(
                    "text/javascript; charset=utf-8", Array(Self.script(urls: urls, token: try token()).utf8))
            } catch {
                return Self.file(
                    "text/javascript; charset=utf-8",
                    Array("throw new Error(\(JSONValue.string("no development token: \(error)").jsonString));".utf8))
            }
        }
        return files[name]
            ?? ServerResponse(
                status: 404, headers: [("content-type", "application/json")],
                body: Array(#"{"message":"Not Found"}"#.utf8))
    }

    static func file(_ contentType: String, _ body: [UInt8]) -> ServerResponse {
        ServerResponse(
            status: 200, headers: [("content-type", contentType), ("cache-control", "no-cache")], body: body)
    }

    static let page = """
        <!doctype html>
        <html lang="en">
        <head>
          <meta charset="utf-8">
          <title>API docs · make run</title>
          <link rel="stylesheet" href="swagger-ui.css">
          <link rel="icon" type="image/png" href="favicon-32x32.png">
        </head>
        <body>
          <div id="swagger-ui"></div>
          <script src="swagger-ui-bundle.js"></script>
          <script src="swagger-ui-standalone-preset.js"></script>
          <script src="init.js"></script>
        </body>
        </html>

        """

    /// One document per service (the top bar switches between them); every call carries the
    /// development token unless the user authorized with another.
    static func script(urls: [JSONValue], token: String) -> String {
        """
        window.ui = SwaggerUIBundle({
          urls: \(JSONValue.array(urls).jsonString),
          // ?urls.primaryName=<service> opens that service's document (a link to one service).
          "urls.primaryName": new URLSearchParams(location.search).get("urls.primaryName") || undefined,
          dom_id: "#swagger-ui",
          deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: "StandaloneLayout",
          requestInterceptor: (request) => {
            if (!request.headers.Authorization) request.headers.Authorization = "Bearer " + \(JSONValue.string(token).jsonString);
            return request;
          },
        });

        """
    }
}
