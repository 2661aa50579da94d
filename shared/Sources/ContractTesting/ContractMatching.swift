import JSONCoding

/// One way an actual response differs from the expectation, at a path such as `body.items[0].name`.
public struct ContractDifference: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var expected: String
    public var actual: String

    public var description: String {
        switch (expected, actual) {
        case (_, "(missing)"): "\(path): missing (expected \(expected))"
        case ("(absent)", _): "\(path): unexpected (got \(actual))"
        default: "\(path): expected \(expected), got \(actual)"
        }
    }
}

/// Values captured from earlier answers of a scenario, by name.
public struct ContractCaptures: Sendable {
    public private(set) var values: [String: String] = [:]
    public init() {}

    /// Replaces every `{{name}}` in the strings of `value`; an unknown name is an error.
    public func substitute(_ value: JSONValue) throws(ContractError) -> JSONValue {
        switch value {
        case .string(let text): return .string(try substitute(text))
        case .array(let elements):
            var out: [JSONValue] = []
            for element in elements { out.append(try substitute(element)) }
            return .array(out)
        case .object(let object):
            var out = JSONObject()
            for (key, member) in object { out[key] = try substitute(member) }
            return .object(out)
        default: return value
        }
    }

    func substitute(_ text: String) throws(ContractError) -> String {
        guard text.utf8.contains(UInt8(ascii: "{")) else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{"), let close = rest[open.upperBound...].firstRange(of: "}}") {
            let name = String(rest[open.upperBound..<close.lowerBound])
            guard let value = values[name] else {
                throw ContractError("{{\(name)}} is used before a case captures it")
            }
            result += rest[..<open.lowerBound] + value
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    mutating func capture(_ name: String, _ value: String) { values[name] = value }
}

/// Compares an expectation (with matchers) to an actual value; records differences and captures.
struct ContractMatcher {
    var captures: ContractCaptures
    var differences: [ContractDifference] = []

    mutating func compare(_ expected: JSONValue, _ actual: JSONValue?, at path: String) {
        if let matcher = expected["$match"]?.stringValue {
            match(matcher, capture: expected["$capture"]?.stringValue, actual, at: path)
            return
        }
        guard let actual else {
            differences.append(.init(path: path, expected: Self.show(expected), actual: "(missing)"))
            return
        }
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            for (key, value) in e { compare(value, a[key], at: "\(path).\(key)") }
            for (key, value) in a where e[key] == nil {
                differences.append(.init(path: "\(path).\(key)", expected: "(absent)", actual: Self.show(value)))
            }
        case (.array(let e), .array(let a)):
            for index in 0..<max(e.count, a.count) {
                let itemPath = "\(path)[\(index)]"
                if index >= e.count {
                    differences.append(.init(path: itemPath, expected: "(absent)", actual: Self.show(a[index])))
                } else {
                    // Optional explicitly: a bare `nil` here would become JSON's null (ExpressibleByNilLiteral).
                    compare(e[index], index < a.count ? Optional(a[index]) : nil, at: itemPath)
                }
            }
        case (.string(let template), .string(let text)):
            let wanted = (try? captures.substitute(template)) ?? template
            if wanted != text {
                differences.append(.init(path: path, expected: Self.show(.string(wanted)), actual: Self.show(actual)))
            }
        case (.number(let e), .number(let a)) where Double(e) == Double(a): break
        default:
            if expected != actual {
                differences.append(.init(path: path, expected: Self.show(expected), actual: Self.show(actual)))
            }
        }
    }

    mutating func match(_ kind: String, capture: String?, _ actual: JSONValue?, at path: String) {
        guard let actual else {
            differences.append(.init(path: path, expected: "a \(kind)", actual: "(missing)"))
            return
        }
        let text = actual.stringValue
        let matches: Bool =
            switch kind {
            case "any": true
            case "string": text != nil
            case "number": if case .number = actual { true } else { false }
            case "ulid": text.map(Self.isULID) ?? false
            case "timestamp": text.map(Self.isTimestamp) ?? false
            case "etag":
                text.map { $0.hasPrefix("\"") && $0.hasSuffix("\"") && $0.count > 2 || $0.hasPrefix("W/\"") } ?? false
            case "cursor": text.map { !$0.isEmpty && $0.utf8.allSatisfy(Self.isCursorByte) } ?? false
            default: false
            }
        guard matches else {
            differences.append(.init(path: path, expected: "a \(kind)", actual: Self.show(actual)))
            return
        }
        if let capture { captures.capture(capture, text ?? actual.jsonString) }
    }

    static func show(_ value: JSONValue) -> String {
        let text = value.jsonString
        return text.count > 120 ? String(text.prefix(117)) + "…" : text
    }

    static let crockford = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    static func isULID(_ s: String) -> Bool { s.utf8.count == 26 && s.utf8.allSatisfy(crockford.contains) }

    /// RFC 3339 in UTC as the services write it: 2026-11-23T05:30:33Z or with fractional seconds.
    static func isTimestamp(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 20, b.last == UInt8(ascii: "Z") else { return false }
        let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        return digits.allSatisfy { b[$0] >= 0x30 && b[$0] <= 0x39 }
            && separators.allSatisfy { b[$0.0] == $0.1.asciiValue! }
            && (b.count == 20
                || (b[19] == UInt8(ascii: ".") && b[20..<(b.count - 1)].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }))
    }

    static func isCursorByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "=")
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")
    }
}

/// A function's answer in the shape expectations are written in: `statusCode`, `headers` with
/// lower-case names, `cookies` and `isBase64Encoded` when present, and `body` parsed as JSON when
/// it is JSON. A document without `statusCode` is what API Gateway infers: a 200 with that body.
public enum ContractResponse {
    public static func normalize(_ bytes: [UInt8]) -> JSONValue {
        guard case .object(let document)? = try? JSONValue.parse(bytes), document["statusCode"] != nil else {
            return [
                "statusCode": 200,
                "body": (try? JSONValue.parse(bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)),
            ]
        }
        var out: JSONObject = ["statusCode": document["statusCode"]!]
        var headers = JSONObject()
        for (name, value) in document["headers"]?.objectValue ?? JSONObject() { headers[name.lowercased()] = value }
        for (name, value) in document["multiValueHeaders"]?.objectValue ?? JSONObject() {
            headers[name.lowercased()] = .string(
                (value.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ","))
        }
        out["headers"] = .object(headers)
        if let cookies = document["cookies"] { out["cookies"] = cookies }
        if document["isBase64Encoded"]?.boolValue == true { out["isBase64Encoded"] = true }
        if let body = document["body"]?.stringValue, !body.isEmpty {
            let type = headers["content-type"]?.stringValue
            if type.map({ $0.isNDJSON }) ?? false, let lines = ndjson(body, base64: out["isBase64Encoded"] == true) {
                // One value per line, so each can hold matchers (ids, timestamps) as a JSON body does.
                out["body"] = .array(lines)
            } else {
                let isJSON = type.map { $0.containsJSON } ?? false
                out["body"] = isJSON ? ((try? JSONValue.parse(body)) ?? .string(body)) : .string(body)
            }
        }
        return .object(out)
    }

    /// The lines of an NDJSON body, or nil if one of them is not JSON.
    static func ndjson(_ body: String, base64: Bool) -> [JSONValue]? {
        let bytes = base64 ? Base64.decode(body) : Array(body.utf8)
        guard let bytes else { return nil }
        var lines: [JSONValue] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let value = try? JSONValue.parse(Array(line)) else { return nil }
            lines.append(value)
        }
        return lines
    }
}

extension String {
    var containsJSON: Bool { lowercased().split(separator: ";").first.map { $0.hasSuffix("json") } ?? false }
    var isNDJSON: Bool {
        let type = lowercased().split(separator: ";").first.map { String($0.filter { $0 != " " }) } ?? ""
        return type == "application/x-ndjson" || type == "application/jsonl"
    }
}
