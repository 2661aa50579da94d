import HTTPAPI

/// The agreements a service must keep with itself: `service.json` is valid, every declared route
/// has a handler and every handler a declared route, and `openapi.json` (beside `service.json`)
/// describes exactly the declared routes. Returns what is broken; empty when all hold.
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
    return problems
}
