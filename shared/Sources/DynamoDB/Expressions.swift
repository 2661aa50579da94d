import DynamoDBModel

/// Allocates `#n0`/`:v0` placeholders for one request, so user data never enters expression text.
public final class Placeholders {
    public private(set) var names: [String: String] = [:]
    public private(set) var values: [String: AttributeValue] = [:]
    private var nameTokens: [String: String] = [:]

    public init() {}

    /// A document path: each dot-free attribute name becomes a placeholder.
    public func path(_ attribute: String) -> String {
        if let token = nameTokens[attribute] { return token }
        let token = "#n\(nameTokens.count)"
        nameTokens[attribute] = token
        names[token] = attribute
        return token
    }

    public func value(_ value: AttributeValue) -> String {
        let token = ":v\(values.count)"
        values[token] = value
        return token
    }
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression).
public indirect enum Condition: Sendable {
    public enum Comparison: String, Sendable {
        case eq = "="
        case ne = "<>"
        case lt = "<"
        case le = "<="
        case gt = ">"
        case ge = ">="
    }
    case exists(String)
    case notExists(String)
    case compare(String, Comparison, AttributeValue)
    case between(String, AttributeValue, AttributeValue)
    case beginsWith(String, AttributeValue)
    case contains(String, AttributeValue)
    case isIn(String, [AttributeValue])
    case and([Condition])
    case or([Condition])
    case not(Condition)

    public static func equals(_ attribute: String, _ value: AttributeValue) -> Condition {
        .compare(attribute, .eq, value)
    }

    public func render(_ p: Placeholders) -> String {
        switch self {
        case .exists(let a): "attribute_exists(\(p.path(a)))"
        case .notExists(let a): "attribute_not_exists(\(p.path(a)))"
        case .compare(let a, let op, let v): "\(p.path(a)) \(op.rawValue) \(p.value(v))"
        case .between(let a, let lo, let hi): "\(p.path(a)) BETWEEN \(p.value(lo)) AND \(p.value(hi))"
        case .beginsWith(let a, let v): "begins_with(\(p.path(a)), \(p.value(v)))"
        case .contains(let a, let v): "contains(\(p.path(a)), \(p.value(v)))"
        case .isIn(let a, let vs): "\(p.path(a)) IN (\(vs.map { p.value($0) }.joined(separator: ", ")))"
        case .and(let cs): cs.map { "(\($0.render(p)))" }.joined(separator: " AND ")
        case .or(let cs): cs.map { "(\($0.render(p)))" }.joined(separator: " OR ")
        case .not(let c): "NOT (\(c.render(p)))"
        }
    }
}

/// An UpdateExpression built from actions.
public struct Update: Sendable {
    enum Action: Sendable {
        case set(String, AttributeValue)
        case setIfNotExists(String, AttributeValue)
        case add(String, AttributeValue)
        case increment(String, DynamoNumber)
        case append(String, [AttributeValue])
        case remove(String)
        case delete(String, AttributeValue)
    }
    var actions: [Action] = []

    public init() {}

    public func set(_ attribute: String, _ value: AttributeValue) -> Update { with(.set(attribute, value)) }
    public func setIfNotExists(_ attribute: String, _ value: AttributeValue) -> Update {
        with(.setIfNotExists(attribute, value))
    }
    /// `SET a = if_not_exists(a, 0) + n`: a counter that starts at zero.
    public func increment(_ attribute: String, by amount: DynamoNumber) -> Update {
        with(.increment(attribute, amount))
    }
    public func add(_ attribute: String, _ value: AttributeValue) -> Update { with(.add(attribute, value)) }
    public func append(_ attribute: String, _ values: [AttributeValue]) -> Update { with(.append(attribute, values)) }
    public func remove(_ attribute: String) -> Update { with(.remove(attribute)) }
    public func delete(_ attribute: String, _ value: AttributeValue) -> Update { with(.delete(attribute, value)) }

    func with(_ action: Action) -> Update {
        var copy = self
        copy.actions.append(action)
        return copy
    }

    public var isEmpty: Bool { actions.isEmpty }

    public func render(_ p: Placeholders) -> String {
        var sets: [String] = []
        var removes: [String] = []
        var adds: [String] = []
        var deletes: [String] = []
        for action in actions {
            switch action {
            case .set(let a, let v): sets.append("\(p.path(a)) = \(p.value(v))")
            case .setIfNotExists(let a, let v): sets.append("\(p.path(a)) = if_not_exists(\(p.path(a)), \(p.value(v)))")
            case .increment(let a, let n):
                sets.append(
                    "\(p.path(a)) = if_not_exists(\(p.path(a)), \(p.value(.n(DynamoNumber(0))))) + \(p.value(.n(n)))")
            case .append(let a, let vs):
                sets.append(
                    "\(p.path(a)) = list_append(if_not_exists(\(p.path(a)), \(p.value(.l([])))), \(p.value(.l(vs))))")
            case .add(let a, let v): adds.append("\(p.path(a)) \(p.value(v))")
            case .remove(let a): removes.append(p.path(a))
            case .delete(let a, let v): deletes.append("\(p.path(a)) \(p.value(v))")
            }
        }
        return [("SET", sets), ("REMOVE", removes), ("ADD", adds), ("DELETE", deletes)]
            .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.joined(separator: ", "))" }.joined(separator: " ")
    }
}
