import JSONCoding
import Synchronization

/// Builds a scenario from exchanges served by the local gateway (`make run RECORD=1`): each event
/// and answer becomes a case, and what the service generated becomes a matcher. ULIDs are
/// captured (`id_1`, …) and their later uses in events and answers become `{{id_1}}`; timestamps
/// match any timestamp; ETags and cursors are captured likewise. Everything else is expected
/// verbatim, to be reviewed like code.
public final class ContractRecorder: Sendable {
    struct State {
        var scenario: ContractScenario
        var captured: [(value: String, name: String)] = []
        var counters: [String: Int] = [:]
    }

    private let state: Mutex<State>

    public init(file: String, name: String) {
        state = Mutex(State(scenario: ContractScenario(file: file, name: name)))
    }

    public var scenario: ContractScenario { state.withLock { $0.scenario } }

    /// Adds the exchange as a case; returns the scenario as it now stands.
    @discardableResult
    public func record(event: JSONValue, answer: [UInt8]) -> ContractScenario {
        state.withLock { state in
            let event = Self.templated(Self.redacted(event), with: state.captured)
            var expect = ContractResponse.normalize(answer)
            if case .object(var response) = expect {
                // The body first: a Location header names the id the body's id captured.
                if let body = response["body"] { response["body"] = Self.generalized(body, key: nil, into: &state) }
                if let headers = response["headers"]?.objectValue {
                    var kept = JSONObject()
                    for (name, value) in headers where Self.headersThatMatter.contains(name) {
                        kept[name] =
                            name == "etag"
                            ? Self.capture("etag", value, into: &state) : Self.templated(value, with: state.captured)
                    }
                    response["headers"] = .object(kept)
                }
                expect = .object(response)
            }
            let method =
                event["requestContext"]?["http"]?["method"]?.stringValue ?? event["httpMethod"]?.stringValue ?? "?"
            let path = event["rawPath"]?.stringValue ?? event["path"]?.stringValue ?? "?"
            let status = expect["statusCode"]?.jsonString ?? "?"
            let name = "\(state.scenario.cases.count + 1). \(method) \(path) → \(status)"
            state.scenario.cases.append(.init(name: name, event: event, expect: expect))
            return state.scenario
        }
    }

    /// The bearer token is API Gateway's business (the verified claims are in the event), and
    /// tokens do not belong in a repository.
    static func redacted(_ event: JSONValue) -> JSONValue {
        guard case .object(var object) = event else { return event }
        for field in ["headers", "multiValueHeaders"] {
            guard case .object(var headers)? = object[field] else { continue }
            for (name, value) in headers where name.lowercased() == "authorization" {
                let redacted: JSONValue = "Bearer [redacted when recorded]"
                headers[name] = value.arrayValue != nil ? [redacted] : redacted
            }
            object[field] = .object(headers)
        }
        return .object(object)
    }

    /// Headers a client relies on; the rest (dates, request ids) may vary.
    static let headersThatMatter: Set<String> = [
        "content-type", "etag", "location", "idempotent-replayed", "www-authenticate", "allow", "cache-control",
    ]

    static func generalized(_ value: JSONValue, key: String?, into state: inout State) -> JSONValue {
        switch value {
        case .object(let object):
            var out = JSONObject()
            for (k, v) in object { out[k] = generalized(v, key: k, into: &state) }
            return .object(out)
        case .array(let elements): return .array(elements.map { generalized($0, key: key, into: &state) })
        case .string(let text):
            if ContractMatcher.isULID(text) { return capture("id", value, into: &state) }
            if ContractMatcher.isTimestamp(text) { return ["$match": "timestamp"] }
            if key == "nextCursor" || key == "cursor" { return capture("cursor", value, into: &state) }
            return templated(value, with: state.captured)
        default: return value
        }
    }

    static func capture(_ kind: String, _ value: JSONValue, into state: inout State) -> JSONValue {
        guard let text = value.stringValue else { return value }
        if let known = state.captured.first(where: { $0.value == text }) { return .string("{{\(known.name)}}") }
        let number = (state.counters[kind] ?? 0) + 1
        state.counters[kind] = number
        let name = "\(kind)_\(number)"
        state.captured.append((text, name))
        let matcher = kind == "id" ? "ulid" : kind
        return ["$match": .string(matcher), "$capture": .string(name)]
    }

    /// Replaces captured values inside strings with their `{{name}}`.
    static func templated(_ value: JSONValue, with captured: [(value: String, name: String)]) -> JSONValue {
        switch value {
        case .string(var text):
            for (original, name) in captured where text.contains(original) {
                text = text.replacing(original, with: "{{\(name)}}")
            }
            return .string(text)
        case .array(let elements): return .array(elements.map { templated($0, with: captured) })
        case .object(let object):
            var out = JSONObject()
            for (k, v) in object { out[k] = templated(v, with: captured) }
            return .object(out)
        default: return value
        }
    }
}
