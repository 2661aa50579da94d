import DynamoDB
import HTTPAPI
import LambdaRuntime
import Platform

/// A service: its name (its directory under services/ and its service.json), how it is built over
/// its store, and its router. The deployed bootstrap, the local gateway, contract replay and the
/// tests all construct it the same way.
public protocol HTTPService: Sendable {
    static var name: String { get }
    init(context: ServiceContext)
    var router: Router { get }
}

/// What a service is built from: its DynamoDB client, its deployed table names and its secrets.
public struct ServiceContext: Sendable {
    public let db: DynamoDBClient
    /// Declared table name → deployed table name (`TABLE_<NAME>`, which Terraform sets).
    public let tables: [String: String]
    /// Signs page cursors; fetched when a listing first needs it.
    public let cursorSecret: LazySecret

    public init(db: DynamoDBClient, tables: [String: String] = [:], cursorSecret: LazySecret) {
        self.db = db
        self.tables = tables
        self.cursorSecret = cursorSecret
    }

    public init(db: DynamoDBClient, tables: [String: String] = [:], cursorSecret: String) {
        self.init(db: db, tables: tables, cursorSecret: .fixed(cursorSecret))
    }

    /// The deployed name of a declared table (the declared name itself locally).
    public func table(_ declared: String) -> String { tables[declared] ?? declared }

    /// The store of a service with one table.
    public func store(_ declared: String) -> ServiceStore {
        ServiceStore(db: db, table: table(declared), cursorSecret: cursorSecret)
    }
}

/// Start-up refused a setting: reported on `/init/error`.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
}

/// A deployed function's whole `main.swift`: `ServiceBootstrap.run(UsersAPI.self)`.
public enum ServiceBootstrap {
    /// Reads the tables and where the cursor secret comes from, failing closed (no secret ARN under
    /// Lambda is an /init/error), builds the service once, and serves invocations. The secret itself
    /// is fetched when a request first needs it: nothing before the first event waits for it.
    public static func run<Service: HTTPService>(_ service: Service.Type) -> Never {
        LambdaRuntime.run { _ in
            let environment = ProcessEnvironment.current()
            // Created once per process: its connections are reused by every invocation.
            let db = try DynamoDBClient()
            var tables: [String: String] = [:]
            for (name, value) in environment where name.hasPrefix("TABLE_") {
                tables[String(name.dropFirst(6).lowercased().map { $0 == "_" ? "-" : $0 })] = value
            }
            let context = ServiceContext(
                db: db, tables: tables,
                cursorSecret: try ServiceSecrets.source(of: "CURSOR_SECRET", environment: environment))
            let router = Service(context: context).router
            // Set where a deployment's integration streams a route (none with the pinned provider).
            let streaming = Set((environment["STREAMING_ROUTES"] ?? "").split(separator: ",").map(String.init))
            let unknown = streaming.subtracting(router.routeKeys)
            guard unknown.isEmpty else {
                throw StartupError(
                    description:
                        "STREAMING_ROUTES names \(unknown.sorted().joined(separator: ", ")), which \(Service.name) does not serve"
                )
            }
            let access = try routeAccess(environment[RouteAccess.environmentName], serving: router, of: Service.name)
            var handler = HTTPLambdaHandler(router: router, streamingRoutes: streaming, access: access)
            #if DEBUG
                handler.statusMutation = HTTPLambdaHandler.statusMutation(environment["CONTRACT_MUTATION"])
            #endif
            return handler
        }
    }

    /// Who may call which route (ROUTE_ACCESS, from service.json), required and covering exactly
    /// the routes served: a function without it, or with a route it does not name, does not start.
    static func routeAccess(_ value: String?, serving router: Router, of service: String) throws -> RouteAccess {
        guard let value, !value.isEmpty else {
            throw StartupError(
                description:
                    "\(RouteAccess.environmentName) is not set: each route's authorization comes from service.json (modules/infrastructure sets it)"
            )
        }
        let access = try RouteAccess(environmentValue: value)
        let served = Set(router.routeKeys)
        let named = Set(access.rules.keys)
        guard served == named else {
            let missing = served.subtracting(named).sorted().map { "\($0) (served, not named)" }
            let extra = named.subtracting(served).sorted().map { "\($0) (named, not served by \(service))" }
            throw StartupError(
                description:
                    "\(RouteAccess.environmentName) does not match the routes: \((missing + extra).joined(separator: ", "))"
            )
        }
        return access
    }

}
