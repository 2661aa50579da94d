import HTTPAPI
import ServiceKit

/// The agreements a service must keep with itself: `service.json` is valid, every declared route
/// has a handler and every handler a declared route, `openapi.json` (beside `service.json`)
/// describes exactly the declared routes with their security (the bearer scheme and the route's
/// scopes, 401 and 403; 404 where a path names a resource), and no index key uses an attribute
/// name idempotency records write. Returns what is broken; empty when all hold.
public func serviceContractViolations(declarationPath: String, router: Router) throws -> [String] {
    let declaration = try ServiceDeclaration.load(path: declarationPath)
    var problems = declaration.validate() + declaration.drift(from: router)
    let document = String(declarationPath.dropLast("service.json".count)) + "openapi.json"
    let documented = try OpenAPIRoutes.routeKeys(documentPath: document)
    let declared = Set(declaration.routes.keys)
    problems += declared.subtracting(documented).sorted().map { "route '\($0)' is declared but not in openapi.json" }
    problems += documented.subtracting(declared).sorted().map {
        "openapi.json describes '\($0)', which is not declared"
    }
    let operations = try OpenAPIRoutes.operations(documentPath: document)
    for (key, route) in declaration.routes.sorted(by: { $0.key < $1.key }) {
        guard let operation = operations[key] else { continue }
        let responses = operation["responses"]?.objectValue ?? [:]
        if route.authorization?.uppercased() == "JWT" {
            let scopes = operation["security"]?.arrayValue?.first?["jwt"]?.arrayValue?.compactMap(\.stringValue)
            if scopes != (route.scopes ?? []) {
                problems.append(
                    "openapi.json: \(key) must declare security [{\"jwt\": \(route.scopes ?? [])}] as service.json does"
                )
            }
            for status in ["401", "403"] where responses[status] == nil {
                problems.append("openapi.json: \(key) must document its \(status) (the JWT authorizer answers it)")
            }
        }
        if key.contains("{"), responses["404"] == nil { problems.append("openapi.json: \(key) must document its 404") }
    }
    for (name, table) in (declaration.tables ?? [:]).sorted(by: { $0.key < $1.key }) {
        for index in table.globalSecondaryIndexes ?? [] {
            for key in [index.partitionKey] + (index.sortKey.map { [$0] } ?? [])
            where key.name.hasPrefix(IdempotencyStore.attributePrefix) {
                problems.append(
                    "table \(name): index \(index.name) keys on \(key.name), an attribute name idempotency records write"
                )
            }
        }
    }
    return problems
}
