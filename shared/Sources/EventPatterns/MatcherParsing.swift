import JSONCoding

/// Reading a pattern's matchers, refusing what EventBridge refuses (the rules of the User Guide's
/// "Content filtering in event patterns"; the wording of the refusals is this project's).
extension Matcher {
    init(_ element: JSONValue, at path: String) throws(EventPatternError) {
        switch element {
        case .string, .number, .bool, .null: self = .exactly(element)
        case .array:
            throw EventPatternError("\"\(path)\" lists an array; a value must be a string, number, true, false or null")
        case .object(let operation):
            guard operation.count == 1, let (name, operand) = operation.first(where: { _ in true }) else {
                throw EventPatternError(
                    "\"\(path)\" has a comparison object with \(operation.count) keys; it takes exactly one")
            }
            self = try Self.operation(name, operand, at: path)
        }
    }

    static func operation(_ name: String, _ operand: JSONValue, at path: String) throws(EventPatternError) -> Matcher {
        func refuse(_ why: String) -> EventPatternError { EventPatternError("\"\(path)\": \(name) \(why)") }
        switch (name, operand) {
        case ("prefix", .string(let text)): return .prefix(text, ignoringCase: false)
        case ("suffix", .string(let text)): return .suffix(text, ignoringCase: false)
        case ("prefix", .object(let inner)), ("suffix", .object(let inner)):
            guard inner.count == 1, case .string(let text)? = inner["equals-ignore-case"] else {
                throw refuse("takes a string or {\"equals-ignore-case\": string}")
            }
            return name == "prefix" ? .prefix(text, ignoringCase: true) : .suffix(text, ignoringCase: true)
        case ("equals-ignore-case", .string(let text)): return .equalsIgnoringCase(text)
        case ("wildcard", .string(let text)):
            do { return .wildcard(try Wildcard(text)) } catch { throw refuse("\(error)") }
        case ("exists", .bool(let present)): return .exists(present)
        case ("cidr", .string(let text)):
            guard let range = IPRange(text) else {
                throw refuse("takes an IPv4 or IPv6 address or CIDR block, not \"\(text)\"")
            }
            return .cidr(range)
        case ("numeric", .array(let terms)): return .numeric(try bounds(terms, refuse))
        case ("anything-but", _): return .anythingBut(try exclusion(operand, refuse))
        case ("prefix", _), ("suffix", _), ("equals-ignore-case", _), ("wildcard", _), ("cidr", _):
            throw refuse("takes a string")
        case ("exists", _): throw refuse("takes true or false")
        case ("numeric", _): throw refuse("takes an array such as [\">\", 0, \"<=\", 5]")
        default:
            throw EventPatternError(
                "\"\(path)\": unknown comparison \"\(name)\" (prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr)"
            )
        }
    }

    /// `["=", 5]`, one bound (`[">", 0]`), or a lower and an upper bound (`[">", 0, "<=", 5]`);
    /// numbers from -5.0e9 to 5.0e9 with at most 6 decimal places.
    static func bounds(_ terms: [JSONValue], _ refuse: (String) -> EventPatternError) throws(EventPatternError)
        -> [Bound]
    {
        guard terms.count == 2 || terms.count == 4 else { throw refuse("takes one comparison and number, or two") }
        var bounds: [Bound] = []
        for index in stride(from: 0, to: terms.count, by: 2) {
            guard case .string(let comparison) = terms[index], ["=", "<", "<=", ">", ">="].contains(comparison) else {
                throw refuse("compares with =, <, <=, > or >=, not \(terms[index].jsonString)")
            }
            guard case .number(let text) = terms[index + 1], let value = Double(text) else {
                throw refuse("needs a number after \(comparison)")
            }
            guard (-5.0e9...5.0e9).contains(value) else {
                throw refuse("takes numbers from -5.0e9 to 5.0e9, not \(text)")
            }
            if let point = text.firstIndex(of: "."), !text.contains(where: { $0 == "e" || $0 == "E" }),
                text[text.index(after: point)...].count > 6
            {
                throw refuse("takes at most 6 decimal places, not \(text)")
            }
            bounds.append(Bound(comparison: comparison, value: value))
        }
        if bounds.count == 2 {
            guard [">", ">="].contains(bounds[0].comparison), ["<", "<="].contains(bounds[1].comparison) else {
                throw refuse("with two bounds takes a lower (> or >=) then an upper (< or <=)")
            }
        }
        return bounds
    }

    /// A string or number, a list of strings only or of numbers only, or one of prefix, suffix,
    /// equals-ignore-case and wildcard with a string or a list of strings.
    static func exclusion(_ operand: JSONValue, _ refuse: (String) -> EventPatternError) throws(EventPatternError)
        -> Exclusion
    {
        func strings(_ value: JSONValue) -> [String]? {
            switch value {
            case .string(let text): [text]
            case .array(let items) where !items.isEmpty:
                items.allSatisfy { $0.stringValue != nil } ? items.compactMap(\.stringValue) : nil
            default: nil
            }
        }
        func numbers(_ value: JSONValue) -> [Double]? {
            let items: [JSONValue]
            switch value {
            case .number: items = [value]
            case .array(let list) where !list.isEmpty: items = list
            default: return nil
            }
            var numbers: [Double] = []
            for item in items {
                guard case .number(let text) = item, let number = Double(text) else { return nil }
                numbers.append(number)
            }
            return numbers
        }
        if let list = strings(operand) { return .strings(list) }
        if let list = numbers(operand) { return .numbers(list) }
        guard case .object(let inner) = operand, inner.count == 1, let (name, value) = inner.first(where: { _ in true })
        else {
            throw refuse("takes a string, a number, a list of only strings or only numbers, or one comparison")
        }
        guard let list = strings(value), !list.contains(where: \.isEmpty) || name == "equals-ignore-case" else {
            throw refuse("\(name) takes a non-empty string or a list of them")
        }
        switch name {
        case "prefix": return .prefixes(list)
        case "suffix": return .suffixes(list)
        case "equals-ignore-case": return .equalsIgnoringCase(list)
        case "wildcard":
            var wildcards: [Wildcard] = []
            for text in list {
                do { wildcards.append(try Wildcard(text)) } catch { throw refuse("\(error)") }
            }
            return .wildcards(wildcards)
        default: throw refuse("takes prefix, suffix, equals-ignore-case or wildcard, not \(name)")
        }
    }
}
