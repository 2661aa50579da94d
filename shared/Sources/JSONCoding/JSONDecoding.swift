/// Codable over `JSONValue`, without Foundation. Errors are standard `DecodingError`s whose
/// `codingPath` names the offending field, which the HTTP layer turns into problem+json.
public enum JSON {
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONValue.parse(bytes))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder(value: value, codingPath: [], tracker: nil).decode(type)
    }

    /// Decodes strictly: an object member that `T` never reads is an error, so a misspelt or
    /// unexpected field is reported instead of silently ignored.
    public static func decodeStrict<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        let tracker = KeyTracker()
        let result = try ValueDecoder(value: value, codingPath: [], tracker: tracker).decode(type)
        let unknown = tracker.unreadKeys()
        if !unknown.isEmpty { throw UnknownFieldsError(paths: unknown) }
        return result
    }

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try encodeValue(value).serialized()
    }

    public static func encodeValue<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let node = EncodingNode()
        try value.encode(to: ValueEncoder(node: node, codingPath: []))
        return try node.materialize(codingPath: [])
    }
}

/// A coding key for array positions and dynamic keys.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) { self.stringValue = stringValue }
    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// Members present in the input that the decoded type never read, as JSON Pointers.
public struct UnknownFieldsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let paths: [String]
    public var description: String { "unknown field\(paths.count == 1 ? "" : "s"): \(paths.joined(separator: ", "))" }
}

/// Records which object members a strict decode read.
final class KeyTracker {
    private var objects: [(path: String, keys: [String])] = []
    private var read: Set<String> = []

    func register(_ object: JSONObject, at path: [any CodingKey]) {
        objects.append((JSONPointer.make(path), object.keys))
    }

    func markRead(_ key: String, at path: [any CodingKey]) {
        read.insert(JSONPointer.make(path + [AnyCodingKey(stringValue: key)]))
    }

    func unreadKeys() -> [String] {
        var result: [String] = []
        for (path, keys) in objects {
            for key in keys {
                let pointer = path + "/" + JSONPointer.escape(key)
                if !read.contains(pointer) && !result.contains(pointer) { result.append(pointer) }
            }
        }
        return result
    }
}

/// RFC 6901 JSON Pointers from coding paths: how problem responses name a field.
public enum JSONPointer {
    public static func make(_ path: [any CodingKey]) -> String {
        path.map { "/" + escape($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
    }

    static func escape(_ token: String) -> String {
        token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

struct ValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let tracker: KeyTracker?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: Any.Type, _ what: String) -> DecodingError {
        .typeMismatch(
            expected,
            .init(codingPath: codingPath, debugDescription: "expected \(what), found \(value.typeName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch(JSONObject.self, "object") }
        tracker?.register(object, at: codingPath)
        return KeyedDecodingContainer(
            KeyedValueDecodingContainer<Key>(object: object, codingPath: codingPath, tracker: tracker))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self, "array") }
        return UnkeyedValueDecodingContainer(elements: elements, codingPath: codingPath, tracker: tracker)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value.isNull }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(type, "boolean") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch(type, "string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let n) = value, let d = Double(n) else { throw mismatch(type, "number") }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float {
        guard case .number(let n) = value, let f = Float(n) else { throw mismatch(type, "number") }
        return f
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let n) = value else { throw mismatch(type, "integer") }
        if let exact = T(n) { return exact }
        // 1e3 or 2.0 are integers written another way; 2.5 and out-of-range values are not.
        if let d = Double(n), d.rounded() == d, let i = T(exactly: d) { return i }
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "\(n) is not a valid \(T.self)"))
    }

    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        return try T(from: self)
    }
}

struct KeyedValueDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]
    let tracker: KeyTracker?

    var allKeys: [Key] {
        object.keys.compactMap { name in
            tracker?.markRead(name, at: codingPath)
            return Key(stringValue: name)
        }
    }

    func lookup(_ key: Key) -> JSONValue? {
        tracker?.markRead(key.stringValue, at: codingPath)
        return object[key.stringValue]
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func child(_ key: Key) throws -> ValueDecoder {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath + [key], debugDescription: "missing required field"))
        }
        return ValueDecoder(value: value, codingPath: codingPath + [key], tracker: tracker)
    }

    func decodeNil(forKey key: Key) throws -> Bool { lookup(key)?.isNull ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    // Optional fields: absent or null decode as nil; anything else must have the right type.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = lookup(key), !value.isNull else { return nil }
        return try ValueDecoder(value: value, codingPath: codingPath + [key], tracker: tracker).decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    { try child(key).container(keyedBy: type) }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        tracker?.markRead("super", at: codingPath)
        return ValueDecoder(
            value: object["super"] ?? .null, codingPath: codingPath + [AnyCodingKey(stringValue: "super")],
            tracker: tracker)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key], tracker: tracker)
    }
}

struct UnkeyedValueDecodingContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    let tracker: KeyTracker?
    var currentIndex = 0

    init(elements: [JSONValue], codingPath: [any CodingKey], tracker: KeyTracker?) {
        self.elements = elements
        self.codingPath = codingPath
        self.tracker = tracker
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> ValueDecoder {
        let key = AnyCodingKey(intValue: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self, .init(codingPath: codingPath + [key], debugDescription: "array has no more elements"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], codingPath: codingPath + [key], tracker: tracker)
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, elements[currentIndex].isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    { try next().container(keyedBy: type) }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        if let d = decoder as? ValueDecoder {
            self = d.value
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let d = try? container.decode(Double.self) {
            self = .number(String(d))
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            let keyed = try decoder.container(keyedBy: AnyCodingKey.self)
            var object = JSONObject()
            for key in keyed.allKeys { object[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key) }
            self = .object(object)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let e = encoder as? ValueEncoder {
            e.node.kind = .value(self)
            return
        }
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .number(let n):
            var c = encoder.singleValueContainer()
            try c.encode(Double(n) ?? 0)
        case .array(let a):
            var c = encoder.unkeyedContainer()
            for element in a { try c.encode(element) }
        case .object(let o):
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            for (key, value) in o { try c.encode(value, forKey: AnyCodingKey(stringValue: key)) }
        }
    }
}
