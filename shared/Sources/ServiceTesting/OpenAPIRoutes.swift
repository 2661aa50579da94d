import HTTPAPI
import JSONCoding

/// The operations an OpenAPI document describes, as API Gateway route keys (`GET /users/{id}`),
/// to compare with a service's declared routes.
public enum OpenAPIRoutes {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    public static func routeKeys(documentPath: String) throws -> Set<String> {
        Set(try operations(documentPath: documentPath).keys)
    }

    /// Each operation's object by route key.
    public static func operations(documentPath: String) throws -> [String: JSONValue] {
        let document = try JSONValue.parse(try FileBytes.read(documentPath))
        var operations: [String: JSONValue] = [:]
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in methods {
                if let operation = item[method] { operations["\(method.uppercased()) \(path)"] = operation }
            }
        }
        return operations
    }
}
