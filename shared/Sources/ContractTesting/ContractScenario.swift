import HTTPAPI
import JSONCoding

/// One file of a service's contract corpus (`services/<name>/contracts/<scenario>.json`): cases
/// replayed in order against one empty database, each a complete API Gateway event and the
/// response expected from the function. Later cases reuse values captured from earlier answers
/// (`{{id_1}}` in any string of an event or expectation).
///
///     {
///       "scenario": "create, read, update, delete",
///       "seed": { "users": [ { "pk": { "S": "…" }, … } ] },        // optional: items in DynamoDB JSON
///       "cases": [
///         { "name": "POST /users → 201",
///           "event": { "version": "2.0", "routeKey": "POST /users", … },
///           "expect": { "statusCode": 201,
///                       "headers": { "etag": { "$match": "etag", "$capture": "etag_1" } },   // only those that matter
///                       "body": { "id": { "$match": "ulid", "$capture": "id_1" }, "name": "Ada" } } } ] }
///
/// Matchers: `any`, `string`, `number`, `ulid`, `timestamp`, `etag`, `cursor`; each may capture.
public struct ContractScenario: Sendable {
    public struct Case: Sendable {
        public var name: String
        public var event: JSONValue
        public var expect: JSONValue
    }

    public var file: String
    public var name: String
    /// Table (declared name) → items in DynamoDB JSON, written before the first case.
    public var seed: [(table: String, items: [JSONValue])]
    public var cases: [Case]

    public init(file: String, name: String, seed: [(table: String, items: [JSONValue])] = [], cases: [Case] = []) {
        self.file = file
        self.name = name
        self.seed = seed
        self.cases = cases
    }

    public init(file: String, bytes: [UInt8]) throws(ContractError) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw ContractError("\(file): not JSON (\(error))")
        }
        guard let name = document["scenario"]?.stringValue, let cases = document["cases"]?.arrayValue else {
            throw ContractError("\(file): needs \"scenario\" (a name) and \"cases\" (an array)")
        }
        var parsed: [Case] = []
        for (index, item) in cases.enumerated() {
            guard let caseName = item["name"]?.stringValue, let event = item["event"], event.objectValue != nil,
                let expect = item["expect"], expect["statusCode"] != nil
            else {
                throw ContractError(
                    "\(file): case \(index + 1) needs \"name\", an \"event\" object and \"expect\" with a \"statusCode\""
                )
            }
            parsed.append(Case(name: caseName, event: event, expect: expect))
        }
        var seed: [(table: String, items: [JSONValue])] = []
        for (table, items) in document["seed"]?.objectValue ?? JSONObject() {
            guard let items = items.arrayValue else { throw ContractError("\(file): seed.\(table) must be an array") }
            seed.append((table, items))
        }
        self.init(file: file, name: name, seed: seed, cases: parsed)
    }

    public var json: JSONValue {
        var document: JSONObject = ["scenario": .string(name)]
        if !seed.isEmpty { document["seed"] = .object(JSONObject(seed.map { ($0.table, .array($0.items)) })) }
        document["cases"] = .array(
            cases.map { .object(["name": .string($0.name), "event": $0.event, "expect": $0.expect]) })
        return .object(document)
    }

    /// The route a case exercises: `routeKey` (payload 2.0) or `METHOD resource` (REST 1.0).
    public static func routeKey(of event: JSONValue) -> String? {
        if let key = event["routeKey"]?.stringValue { return key }
        if let method = event["httpMethod"]?.stringValue, let resource = event["resource"]?.stringValue {
            return "\(method) \(resource)"
        }
        return nil
    }
}

public struct ContractError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ContractScenario {
    /// Writes the scenario, indented for review, through a temporary file so a reader never sees
    /// half a file.
    public func write() throws(ContractError) {
        if let slash = file.lastIndex(of: "/") { mkdir(String(file[..<slash]), 0o755) }
        let temporary = file + ".tmp"
        guard let handle = fopen(temporary, "wb") else { throw ContractError("cannot write \(temporary)") }
        let bytes = json.prettySerialized()
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, handle) }
        fclose(handle)
        guard written == bytes.count, rename(temporary, file) == 0 else { throw ContractError("cannot write \(file)") }
    }

    /// Every scenario of a service's corpus directory, sorted by file name.
    public static func load(directory: String) throws(ContractError) -> [ContractScenario] {
        guard let dir = opendir(directory) else { return [] }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasSuffix(".json") { names.append(name) }
        }
        closedir(dir)
        var scenarios: [ContractScenario] = []
        for name in names.sorted() {
            let path = "\(directory)/\(name)"
            let bytes: [UInt8]
            do { bytes = try FileBytes.read(path) } catch { throw ContractError("cannot read \(path)") }
            scenarios.append(try ContractScenario(file: path, bytes: bytes))
        }
        return scenarios
    }
}
