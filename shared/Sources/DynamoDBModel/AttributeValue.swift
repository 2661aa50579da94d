import JSONCoding

/// A DynamoDB attribute value, as the JSON protocol writes it (`{"S":"x"}`, `{"N":"1.5"}`, ...).
public enum AttributeValue: Sendable, Hashable {
    case s(String)
    case n(DynamoNumber)
    case b([UInt8])
    case bool(Bool)
    case null
    case m([String: AttributeValue])
    case l([AttributeValue])
    case ss([String])
    case ns([DynamoNumber])
    case bs([[UInt8]])

    /// The type descriptor: S, N, B, BOOL, NULL, M, L, SS, NS, BS.
    public var typeName: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .m: "M"
        case .l: "L"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        }
    }

    public var stringValue: String? {
        if case .s(let s) = self { return s }
        return nil
    }

    public var numberValue: DynamoNumber? {
        if case .n(let n) = self { return n }
        return nil
    }

    /// DynamoDB's size accounting: UTF-8 bytes of strings, numbers by significant digits.
    public var size: Int {
        switch self {
        case .s(let s): s.utf8.count
        case .n(let n): max(1, (n.digits.count + 1) / 2 + 1)
        case .b(let b): b.count
        case .bool, .null: 1
        case .m(let m): 3 + m.reduce(0) { $0 + $1.key.utf8.count + $1.value.size + 1 }
        case .l(let l): 3 + l.reduce(0) { $0 + $1.size + 1 }
        case .ss(let s): s.reduce(0) { $0 + $1.utf8.count }
        case .ns(let n): n.reduce(0) { $0 + AttributeValue.n($1).size }
        case .bs(let b): b.reduce(0) { $0 + $1.count }
        }
    }

    /// Set equality ignores order; everything else compares structurally.
    public static func == (lhs: AttributeValue, rhs: AttributeValue) -> Bool {
        switch (lhs, rhs) {
        case (.s(let a), .s(let b)): a == b
        case (.n(let a), .n(let b)): a == b
        case (.b(let a), .b(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.m(let a), .m(let b)): a == b
        case (.l(let a), .l(let b)): a == b
        case (.ss(let a), .ss(let b)): Set(a) == Set(b)
        case (.ns(let a), .ns(let b)): Set(a) == Set(b)
        case (.bs(let a), .bs(let b)): Set(a) == Set(b)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeName)
        switch self {
        case .s(let s): hasher.combine(s)
        case .n(let n): hasher.combine(n)
        case .b(let b): hasher.combine(b)
        case .bool(let b): hasher.combine(b)
        case .null: break
        case .m(let m): hasher.combine(m)
        case .l(let l): hasher.combine(l)
        case .ss(let s): hasher.combine(Set(s))
        case .ns(let n): hasher.combine(Set(n))
        case .bs(let b): hasher.combine(Set(b))
        }
    }
}

public typealias Item = [String: AttributeValue]

/// A malformed attribute value in a request. `malformedPayload` marks what DynamoDB refuses while
/// reading the request body (a SerializationException) rather than while validating it.
public struct AttributeValueError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public var malformedPayload = false
}

extension AttributeValue {
    /// Reads the wire form `{"S": "..."}`.
    public init(wire: JSONValue) throws(AttributeValueError) {
        guard case .object(let object) = wire, object.count == 1,
            let (type, value) = object.members.first.map({ ($0.key, $0.value) })
        else {
            throw AttributeValueError(
                description:
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
            )
        }
        func string() throws(AttributeValueError) -> String {
            guard case .string(let s) = value else {
                throw AttributeValueError(description: "\(type) must be a string")
            }
            return s
        }
        func number(_ text: String) throws(AttributeValueError) -> DynamoNumber {
            do { return try DynamoNumber(text) } catch {
                throw AttributeValueError(
                    description: error.description.hasPrefix("'")
                        ? "The parameter cannot be converted to a numeric value: \(text)" : error.description)
            }
        }
        // Padded base64 only (observed: DynamoDB answers "Base64 encoded length is expected a
        // multiple of 4 bytes but found: 5" as a SerializationException, quoted by dynalite's suite).
        func binary(_ text: String) throws(AttributeValueError) -> [UInt8] {
            guard text.utf8.count % 4 == 0 else {
                throw AttributeValueError(
                    description:
                        "Base64 encoded length is expected a multiple of 4 bytes but found: \(text.utf8.count)",
                    malformedPayload: true)
            }
            guard let bytes = Base64.decode(text) else {
                throw AttributeValueError(
                    description: "Invalid Base64 character in a binary value", malformedPayload: true)
            }
            return bytes
        }
        func list() throws(AttributeValueError) -> [JSONValue] {
            guard case .array(let a) = value else { throw AttributeValueError(description: "\(type) must be a list") }
            return a
        }
        func strings() throws(AttributeValueError) -> [String] {
            var result: [String] = []
            for element in try list() {
                guard case .string(let s) = element else {
                    throw AttributeValueError(description: "\(type) elements must be strings")
                }
                result.append(s)
            }
            guard !result.isEmpty else {
                throw AttributeValueError(
                    description: "One or more parameter values were invalid: An string set  may not be empty")
            }
            guard Set(result).count == result.count else {
                throw AttributeValueError(
                    description: "One or more parameter values were invalid: Input collection contains duplicates")
            }
            return result
        }
        switch type {
        case "S": self = .s(try string())
        case "N": self = .n(try number(try string()))
        case "B": self = .b(try binary(try string()))
        case "BOOL":
            guard case .bool(let b) = value else { throw AttributeValueError(description: "BOOL must be a boolean") }
            self = .bool(b)
        case "NULL":
            guard case .bool(true) = value else {
                throw AttributeValueError(
                    description:
                        "One or more parameter values were invalid: Null attribute value types must have the value of true"
                )
            }
            self = .null
        case "M":
            guard case .object(let members) = value else { throw AttributeValueError(description: "M must be a map") }
            var map: [String: AttributeValue] = [:]
            for (k, v) in members { map[k] = try AttributeValue(wire: v) }
            self = .m(map)
        case "L":
            var elements: [AttributeValue] = []
            for v in try list() { elements.append(try AttributeValue(wire: v)) }
            self = .l(elements)
        case "SS": self = .ss(try strings())
        case "NS":
            let texts = try strings()
            var numbers: [DynamoNumber] = []
            for t in texts { numbers.append(try number(t)) }
            guard Set(numbers).count == numbers.count else {
                throw AttributeValueError(
                    description: "One or more parameter values were invalid: Input collection contains duplicates")
            }
            self = .ns(numbers)
        case "BS":
            var sets: [[UInt8]] = []
            for t in try strings() { sets.append(try binary(t)) }
            self = .bs(sets)
        default:
            throw AttributeValueError(
                description: "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
        }
    }

    /// The wire form.
    public var wire: JSONValue {
        let (type, value): (String, JSONValue) =
            switch self {
            case .s(let s): ("S", .string(s))
            case .n(let n): ("N", .string(n.description))
            case .b(let b): ("B", .string(Base64.encode(b)))
            case .bool(let b): ("BOOL", .bool(b))
            case .null: ("NULL", .bool(true))
            case .m(let m): ("M", .object(JSONObject(m.sorted { $0.key < $1.key }.map { ($0.key, $0.value.wire) })))
            case .l(let l): ("L", .array(l.map(\.wire)))
            case .ss(let s): ("SS", .array(s.map(JSONValue.string)))
            case .ns(let n): ("NS", .array(n.map { .string($0.description) }))
            case .bs(let b): ("BS", .array(b.map { .string(Base64.encode($0)) }))
            }
        return .object(JSONObject([(type, value)]))
    }

    public static func item(wire: JSONValue?) throws(AttributeValueError) -> Item {
        guard case .object(let object) = wire else { return [:] }
        var item: Item = [:]
        for (k, v) in object { item[k] = try AttributeValue(wire: v) }
        return item
    }

    public static func wire(_ item: Item) -> JSONValue {
        .object(JSONObject(item.sorted { $0.key < $1.key }.map { ($0.key, $0.value.wire) }))
    }
}
