import JSONCoding

/// One entry of a pattern field's list: a value to equal, or a comparison (EventBridge User Guide,
/// "Content filtering in event patterns"). Each is checked against the scalar values found at
/// its place in the event (`leaves`: none when the field is absent or an empty array).
enum Matcher: Sendable, Equatable {
    /// Equal, type included: a string never equals a number, and numbers compare by their text
    /// ("300, 300.0, and 3.0e2 are not considered equal").
    case exactly(JSONValue)
    case prefix(String, ignoringCase: Bool)
    case suffix(String, ignoringCase: Bool)
    case equalsIgnoringCase(String)
    case wildcard(Wildcard)
    case anythingBut(Exclusion)
    case numeric([Bound])
    case exists(Bool)
    case cidr(IPRange)

    struct Bound: Sendable, Equatable {
        var comparison: String
        var value: Double
    }

    func matches(_ leaves: [JSONValue]) -> Bool {
        switch self {
        case .exists(let present): return leaves.isEmpty != present
        // Only a value that is there can be anything but something.
        case .anythingBut(let exclusion): return leaves.contains { !exclusion.excludes($0) }
        default: return leaves.contains(where: matches)
        }
    }

    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.exactly(.string(let expected)), .string(let text)): return text.exactly(expected)
        case (.exactly(let expected), _): return expected == value
        case (.prefix(let prefix, let fold), .string(let text)):
            return fold ? text.lowercased().starts(exactly: prefix.lowercased()) : text.starts(exactly: prefix)
        case (.suffix(let suffix, let fold), .string(let text)):
            return fold ? text.lowercased().ends(exactly: suffix.lowercased()) : text.ends(exactly: suffix)
        case (.equalsIgnoringCase(let expected), .string(let text)):
            return text.lowercased().exactly(expected.lowercased())
        case (.wildcard(let wildcard), .string(let text)): return wildcard.matches(text)
        case (.numeric(let bounds), .number(let text)):
            guard let number = Double(text) else { return false }
            return bounds.allSatisfy { bound in
                switch bound.comparison {
                case "=": number == bound.value
                case "<": number < bound.value
                case "<=": number <= bound.value
                case ">": number > bound.value
                default: number >= bound.value
                }
            }
        case (.cidr(let range), .string(let text)): return IPAddress(text).map(range.contains) ?? false
        default: return false
        }
    }
}

/// What `anything-but` leaves out: values of one type (strings, or numbers by value), or strings
/// by prefix, suffix, case-insensitive equality or wildcard. A value of another type is not
/// left out, so `{"anything-but": [100]}` matches `"100"` and `null`.
enum Exclusion: Sendable, Equatable {
    case strings([String])
    case numbers([Double])
    case prefixes([String])
    case suffixes([String])
    case equalsIgnoringCase([String])
    case wildcards([Wildcard])

    func excludes(_ value: JSONValue) -> Bool {
        if case .numbers(let numbers) = self {
            guard case .number(let text) = value, let number = Double(text) else { return false }
            return numbers.contains(number)
        }
        guard case .string(let text) = value else { return false }
        switch self {
        case .strings(let strings): return strings.contains { text.exactly($0) }
        case .prefixes(let prefixes): return prefixes.contains { text.starts(exactly: $0) }
        case .suffixes(let suffixes): return suffixes.contains { text.ends(exactly: $0) }
        case .equalsIgnoringCase(let strings): return strings.contains { text.lowercased().exactly($0.lowercased()) }
        case .wildcards(let wildcards): return wildcards.contains { $0.matches(text) }
        case .numbers: return false
        }
    }
}

/// Strings compared as EventBridge compares them, character code by character code: Swift's `==`
/// would take canonically equivalent texts (a precomposed é and e + ◌́) as equal.
extension String {
    func exactly(_ other: String) -> Bool { unicodeScalars.elementsEqual(other.unicodeScalars) }
    func starts(exactly prefix: String) -> Bool { unicodeScalars.starts(with: prefix.unicodeScalars) }
    func ends(exactly suffix: String) -> Bool {
        unicodeScalars.reversed().starts(with: suffix.unicodeScalars.reversed())
    }
}
