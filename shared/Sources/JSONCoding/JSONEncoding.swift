/// The tree an encoding builds. A reference type because Codable hands out containers that must
/// write into the same parent after they are returned.
final class EncodingNode {
    enum Kind {
        case unset
        case value(JSONValue)
        case object([(key: String, node: EncodingNode)])
        case array([EncodingNode])
    }

    var kind: Kind = .unset

    func materialize(codingPath: [any CodingKey]) throws -> JSONValue {
        switch kind {
        case .unset: return .object(JSONObject())
        case .value(let v): return v
        case .object(let members):
            return .object(
                JSONObject(try members.map { ($0.key, try $0.node.materialize(codingPath: codingPath)) }))
        case .array(let nodes): return .array(try nodes.map { try $0.materialize(codingPath: codingPath) })
        }
    }

    func child(forKey key: String) -> EncodingNode {
        let node = EncodingNode()
        if case .object(var members) = kind {
            if let i = members.firstIndex(where: { $0.key == key }) {
                members[i].node = node
            } else {
                members.append((key, node))
            }
            kind = .object(members)
        }
        return node
    }

    func appendChild() -> EncodingNode {
        let node = EncodingNode()
        if case .array(var nodes) = kind {
            nodes.append(node)
            kind = .array(nodes)
        }
        return node
    }
}

struct ValueEncoder: Encoder, SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = node.kind {} else { node.kind = .object([]) }
        return KeyedEncodingContainer(KeyedValueEncodingContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = node.kind {} else { node.kind = .array([]) }
        return UnkeyedValueEncodingContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func set(_ value: JSONValue) { node.kind = .value(value) }

    func encodeNil() { set(.null) }
    func encode(_ value: Bool) { set(.bool(value)) }
    func encode(_ value: String) { set(.string(value)) }

    func encodeFloatingPoint<F: FloatingPoint & LosslessStringConvertible>(_ value: F) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "\(value) cannot be represented in JSON"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        set(.number(text))
    }

    func encode(_ value: Double) throws { try encodeFloatingPoint(value) }
    func encode(_ value: Float) throws { try encodeFloatingPoint(value) }
    func encode(_ value: Int) { set(.number(String(value))) }
    func encode(_ value: Int8) { set(.number(String(value))) }
    func encode(_ value: Int16) { set(.number(String(value))) }
    func encode(_ value: Int32) { set(.number(String(value))) }
    func encode(_ value: Int64) { set(.number(String(value))) }
    func encode(_ value: UInt) { set(.number(String(value))) }
    func encode(_ value: UInt8) { set(.number(String(value))) }
    func encode(_ value: UInt16) { set(.number(String(value))) }
    func encode(_ value: UInt32) { set(.number(String(value))) }
    func encode(_ value: UInt64) { set(.number(String(value))) }

    func encode<T: Encodable>(_ value: T) throws {
        if let json = value as? JSONValue {
            set(json)
            return
        }
        try value.encode(to: self)
    }
}

struct KeyedValueEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    func encoder(for key: any CodingKey) -> ValueEncoder {
        ValueEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) { encoder(for: key).encodeNil() }
    mutating func encode(_ value: Bool, forKey key: Key) { encoder(for: key).encode(value) }
    mutating func encode(_ value: String, forKey key: Key) { encoder(for: key).encode(value) }
    mutating func encode(_ value: Int, forKey key: Key) { encoder(for: key).encode(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try encoder(for: key).encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    { encoder(for: key).container(keyedBy: keyType) }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder(for: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { encoder(for: AnyCodingKey(stringValue: "super")) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder(for: key) }
}

struct UnkeyedValueEncodingContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    var count: Int {
        if case .array(let nodes) = node.kind { return nodes.count }
        return 0
    }

    func nextEncoder() -> ValueEncoder {
        let key = AnyCodingKey(intValue: count)
        return ValueEncoder(node: node.appendChild(), codingPath: codingPath + [key])
    }

    mutating func encodeNil() { nextEncoder().encodeNil() }
    mutating func encode(_ value: String) { nextEncoder().encode(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try nextEncoder().encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    { nextEncoder().container(keyedBy: keyType) }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nextEncoder().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { nextEncoder() }
}
