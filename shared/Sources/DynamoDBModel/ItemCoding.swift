import JSONCoding

/// Codable types ↔ DynamoDB items, through JSONCoding: strings → S, numbers → N (their exact
/// text, never a Double), booleans → BOOL, null → NULL, arrays → L, objects → M. Sets and binary
/// values use the wrapper types below.
public enum ItemCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Item {
        guard case .m(let item) = try attributeValue(JSON.encodeValue(value)) else {
            throw AttributeValueError(description: "\(T.self) does not encode to a map, so it cannot be an item")
        }
        return item
    }

    public static func decode<T: Decodable>(_ type: T.Type, from item: Item) throws -> T {
        try JSON.decode(type, from: jsonValue(.m(item)))
    }

    public static func attributeValue(_ json: JSONValue) throws -> AttributeValue {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .n(try DynamoNumber(n))
        case .string(let s): return .s(s)
        case .array(let a): return .l(try a.map(attributeValue))
        case .object(let o):
            // The wrappers encode as {"$SS": [...]} etc.
            if o.count == 1, let (key, value) = o.members.first.map({ ($0.key, $0.value) }), key.hasPrefix("$") {
                switch key {
                case "$SS": return .ss(value.arrayValue?.compactMap(\.stringValue) ?? [])
                case "$NS":
                    return .ns(try (value.arrayValue ?? []).compactMap(\.stringValue).map { try DynamoNumber($0) })
                case "$B": return .b(Base64.decode(value.stringValue ?? "") ?? [])
                case "$BS":
                    return .bs((value.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Base64.decode($0) } })
                default: break
                }
            }
            var map: [String: AttributeValue] = [:]
            for (k, v) in o { map[k] = try attributeValue(v) }
            return .m(map)
        }
    }

    public static func jsonValue(_ value: AttributeValue) -> JSONValue {
        switch value {
        case .s(let s): .string(s)
        case .n(let n): .number(n.description)
        case .b(let b): ["$B": .string(Base64.encode(b))]
        case .bool(let b): .bool(b)
        case .null: .null
        case .m(let m): .object(JSONObject(m.sorted { $0.key < $1.key }.map { ($0.key, jsonValue($0.value)) }))
        case .l(let l): .array(l.map(jsonValue))
        case .ss(let s): ["$SS": .array(s.map(JSONValue.string))]
        case .ns(let n): ["$NS": .array(n.map { .string($0.description) })]
        case .bs(let b): ["$BS": .array(b.map { .string(Base64.encode($0)) })]
        }
    }
}

/// A string set attribute (SS).
public struct StringSet: Codable, Sendable, Hashable {
    public var values: Set<String>
    public init(_ values: Set<String>) { self.values = values }
    enum Keys: String, CodingKey { case ss = "$SS" }
    public init(from decoder: any Decoder) throws {
        values = Set(try decoder.container(keyedBy: Keys.self).decode([String].self, forKey: .ss))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(values.sorted(), forKey: .ss)
    }
}

/// A binary attribute (B).
public struct Binary: Codable, Sendable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    enum Keys: String, CodingKey { case b = "$B" }
    public init(from decoder: any Decoder) throws {
        let text = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .b)
        bytes = Base64.decode(text) ?? []
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(Base64.encode(bytes), forKey: .b)
    }
}
