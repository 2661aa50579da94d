import JSONCoding

/// An Amazon EventBridge event pattern, matched as EventBridge matches it (EventBridge User Guide,
/// "Creating event patterns" and "Content filtering in event patterns"): a pattern has the shape of
/// the events it selects; each field it names must match (AND), a field's list of matchers matches
/// when any one does (OR), fields it leaves out are ignored, and `$or` offers alternative patterns.
///
/// Where the guide is silent the behaviour is the one of aws/event-ruler, the library EventBridge
/// matches with: an array in the event is flattened (a field matches when any element does), the
/// fields of one sub-pattern must match within one element of an array of objects, `null` is a
/// value, and an empty array is no value.
public struct EventPattern: Sendable {
    /// One level of a pattern: its fields (each a nested pattern or a list of matchers) and its
    /// `$or` alternatives, of which one must match too.
    indirect enum Node: Sendable {
        case object(fields: [(name: String, node: Node)], alternatives: [[Node]])
        case leaf([Matcher])
    }

    let root: Node

    /// A pattern from its JSON text; a malformed one is refused in one sentence naming the place.
    public init(json text: String) throws(EventPatternError) {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw EventPatternError("the pattern is not JSON: \(error)") }
        try self.init(value)
    }

    public init(_ pattern: JSONValue) throws(EventPatternError) {
        guard case .object(let object) = pattern else { throw EventPatternError("a pattern must be a JSON object") }
        root = try Self.compile(object, at: "")
    }

    /// Whether `event` (a whole event: source, detail-type, detail, ...) is selected.
    public func matches(_ event: JSONValue) -> Bool { Self.matches(root, [event]) }

    // MARK: Compiling

    static func compile(_ object: JSONObject, at path: String) throws(EventPatternError) -> Node {
        guard !object.isEmpty else {
            throw EventPatternError("\(place(path)) is an empty object, which matches nothing")
        }
        var fields: [(name: String, node: Node)] = []
        var alternatives: [[Node]] = []
        for (name, value) in object {
            let here = path.isEmpty ? name : "\(path).\(name)"
            switch value {
            case .object(let nested):
                fields.removeAll { $0.name == name }  // a repeated key: the last one counts
                fields.append((name, try compile(nested, at: here)))
            case .array(let list) where name == "$or":
                guard list.count >= 2 else { throw EventPatternError("\(place(here)) needs at least 2 patterns") }
                var options: [Node] = []
                for option in list {
                    guard case .object(let nested) = option else {
                        throw EventPatternError("\(place(here)) may hold only JSON objects")
                    }
                    options.append(try compile(nested, at: here))
                }
                alternatives.append(options)
            case .array(let list):
                guard !list.isEmpty else {
                    throw EventPatternError("\(place(here)) is an empty array, which matches nothing")
                }
                var matchers: [Matcher] = []
                for element in list { matchers.append(try Matcher(element, at: here)) }
                fields.removeAll { $0.name == name }
                fields.append((name, .leaf(matchers)))
            default:
                throw EventPatternError("\(place(here)) must be an object or an array, not a \(value.typeName)")
            }
        }
        return .object(fields: fields, alternatives: alternatives)
    }

    static func place(_ path: String) -> String { path.isEmpty ? "the pattern" : "\"\(path)\"" }

    // MARK: Matching

    /// `node` against the values found at its place: one per element of an array of objects,
    /// so that sibling fields match within one element.
    static func matches(_ node: Node, _ values: [JSONValue]) -> Bool {
        switch node {
        case .leaf(let matchers):
            let leaves = values.flatMap(Self.leaves)
            return matchers.contains { $0.matches(leaves) }
        case .object(let fields, let alternatives):
            // No object here: every field is absent, which only `exists: false` accepts.
            let candidates = objects(in: values)
            return (candidates.isEmpty ? [JSONObject()] : candidates).contains { object in
                fields.allSatisfy { matches($0.node, object[$0.name].map { [$0] } ?? []) }
                    && alternatives.allSatisfy { options in options.contains { matches($0, [.object(object)]) } }
            }
        }
    }

    /// The scalar values at a place: an array contributes its elements (nested arrays too), an
    /// object contributes nothing (a leaf matcher does not reach into it).
    static func leaves(_ value: JSONValue) -> [JSONValue] {
        switch value {
        case .array(let elements): elements.flatMap(leaves)
        case .object: []
        default: [value]
        }
    }

    static func objects(in values: [JSONValue]) -> [JSONObject] {
        values.flatMap { value -> [JSONObject] in
            switch value {
            case .object(let object): [object]
            case .array(let elements): objects(in: elements)
            default: []
            }
        }
    }
}

/// A pattern EventBridge would refuse, in one sentence.
public struct EventPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "invalid event pattern: \(description)" }
}
