import JSONCoding

/// A service's `service.json`: its function settings, routes and tables. Terraform reads the same
/// file with `jsondecode`, so the router, the local gateway, the contract checks and the deployed
/// infrastructure cannot disagree.
public struct ServiceDeclaration: Codable, Sendable, Equatable {
    public struct Function: Codable, Sendable, Equatable {
        public var memory: Int
        public var timeout: Int
        public var architecture: String
        public var reservedConcurrency: Int?
        public var environment: [String: String]?
        /// The runtime's Embedded Metric Format lines (default on; Terraform sets METRICS_NAMESPACE).
        public var metrics: Bool?
    }

    /// What the deployed environment's alarms and dashboard hold the service, or one route, to.
    /// Absent values take the defaults in modules/infrastructure's `services` type (p99 1000 ms,
    /// 1% errors, 80% of the timeout); `make run` and the contract tooling ignore them.
    public struct Objectives: Codable, Sendable, Equatable {
        public var latencyP99Milliseconds: Double?
        public var errorRatePercent: Double?
        /// Service level only: the function's p99 duration alarm, as a share of its timeout.
        public var durationShareOfTimeout: Double?
    }

    public struct Route: Codable, Sendable, Equatable {
        /// Required: `JWT`, or `NONE` on a route the service also marks `public` (RouteAccess).
        public var authorization: String?
        /// A `NONE` route's second key: the service means anyone to call it.
        public var `public`: Bool?
        public var scopes: [String]?
        public var timeoutMilliseconds: Int?
        public var throttle: Throttle?
        /// REST APIs only: the caller must send an API key of a usage plan (`x-api-key`).
        public var apiKeyRequired: Bool?
        public var objectives: Objectives?
        /// The handler answers with `HTTPResponse.streamed`: `make run` streams it to the client;
        /// a deployment serves it buffered (up to `HTTPResponse.maxBufferedBytes`) unless its
        /// integration streams (README, "Response streaming").
        public var streamed: Bool?
    }

    public struct Throttle: Codable, Sendable, Equatable {
        public var burstLimit: Int
        public var rateLimit: Double
    }

    public struct KeyAttribute: Codable, Sendable, Equatable {
        public var name: String
        /// DynamoDB scalar type: S, N or B.
        public var type: String
        /// For a partition key, how many distinct values it takes, which is what bounds its
        /// throughput (`make capacity`): `item` (one per item), `caller` (one per caller), or
        /// `shards` (exactly `shards` values).
        public var cardinality: String?
        public var shards: Int?
    }

    public struct Index: Codable, Sendable, Equatable {
        public var name: String
        public var partitionKey: KeyAttribute
        public var sortKey: KeyAttribute?
        /// ALL, KEYS_ONLY or INCLUDE.
        public var projection: String
        public var nonKeyAttributes: [String]?
    }

    /// A local secondary index: the table's partition key, another sort key.
    public struct LocalIndex: Codable, Sendable, Equatable {
        public var name: String
        public var sortKey: KeyAttribute
        /// ALL, KEYS_ONLY or INCLUDE.
        public var projection: String
        public var nonKeyAttributes: [String]?
    }

    public struct Table: Codable, Sendable, Equatable {
        public var partitionKey: KeyAttribute
        public var sortKey: KeyAttribute?
        public var globalSecondaryIndexes: [Index]?
        public var localSecondaryIndexes: [LocalIndex]?
        /// A DynamoDB stream's view type: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES.
        public var stream: String?
        public var ttlAttribute: String?
    }

    /// What one request of a route reads and writes, in 1 KB items (`make capacity`).
    public struct AccessPattern: Codable, Sendable, Equatable {
        public var reads: [Operation]?
        public var writes: [Operation]?
    }

    public struct Operation: Codable, Sendable, Equatable {
        public var table: String
        /// A read through an index (else the table's key).
        public var index: String?
        public var items: Int
        /// Writes per item (default 1), e.g. a record put and then updated.
        public var times: Int?
        /// Of the items written, how many carry index keys (default: all).
        public var indexed: Int?
        public var transaction: Bool?
        public var consistent: Bool?
        public var note: String?
    }

    public var name: String
    public var description: String?
    public var function: Function
    public var objectives: Objectives?
    public var routes: [String: Route]
    public var tables: [String: Table]?
    public var accessPatterns: [String: AccessPattern]?

    /// The routes whose handlers stream (`"streamed": true`).
    public var streamedRoutes: Set<String> { Set(routes.filter { $0.value.streamed == true }.keys) }

    /// Problems with the declaration itself: invalid route keys, out-of-range settings.
    public func validate() -> [String] {
        var problems: [String] = []
        for key in routes.keys.sorted() {
            do { _ = try RouteKey(key) } catch { problems.append(error.description) }
            let route = routes[key]!
            switch (route.authorization, route.public ?? false) {
            case ("JWT", false), ("NONE", true): break
            case ("NONE", false):
                problems.append("route '\(key)' has authorization NONE: mark it \"public\": true if anyone may call it")
            case ("JWT", true):
                problems.append("route '\(key)' is public but has authorization JWT: a public route has NONE")
            default:
                problems.append("route '\(key)' needs \"authorization\": \"JWT\" (or \"NONE\" with \"public\": true)")
            }
        }
        if !(128...10_240).contains(function.memory) { problems.append("function.memory must be 128–10240 MB") }
        if !(1...900).contains(function.timeout) { problems.append("function.timeout must be 1–900 seconds") }
        if !["x86_64", "arm64"].contains(function.architecture) {
            problems.append("function.architecture must be x86_64 or arm64")
        }
        return problems
    }

    /// Routes declared without a handler, and handlers without a declared route.
    public func drift(from router: Router) -> [String] {
        let declared = Set(routes.keys)
        let handled = Set(router.routeKeys)
        return declared.subtracting(handled).sorted().map {
            "route '\($0)' is declared in service.json but has no handler"
        }
            + handled.subtracting(declared).sorted().map { "handler for '\($0)' has no route declared in service.json" }
    }

    public static func load(path: String) throws -> ServiceDeclaration {
        try JSON.decodeStrict(ServiceDeclaration.self, from: try JSONValue.parse(try FileBytes.read(path)))
    }
}

/// Whole-file reads without Foundation.
public enum FileBytes {
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ReadError(description: "cannot open \(path)") }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        return bytes
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
