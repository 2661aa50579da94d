import HTTPAPI
import JSONCoding

/// The operations an OpenAPI document describes, as API Gateway route keys (`GET /users/{id}`),
/// to compare with a service's declared routes.
public enum OpenAPIRoutes {
    static let methods = ["get", "put", "post", "delete", "patch", "head", "options"]

    public static func routeKeys(documentPath: String) throws -> Set<String> {
        let document = try JSONValue.parse(try FileBytes.read(documentPath))
        var keys: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in methods where item[method] != nil { keys.insert("\(method.uppercased()) \(path)") }
        }
        return keys
    }
}
