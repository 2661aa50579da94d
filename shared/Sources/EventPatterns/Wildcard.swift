/// A `wildcard` string: `*` stands for any run of characters, none included; `\*` is a star and
/// `\\` a backslash. Two stars in a row, and a backslash before anything else, are refused.
struct Wildcard: Sendable, Equatable {
    /// The literal parts between the stars; a match begins with the first and ends with the last.
    let parts: [[Unicode.Scalar]]

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws(Refusal) {
        var parts: [[Unicode.Scalar]] = [[]]
        var escaped = false
        var previousWasStar = false
        for (offset, character) in text.unicodeScalars.enumerated() {
            if escaped {
                guard character == "*" || character == "\\" else {
                    throw Refusal(description: "has an escape other than \\* or \\\\ at position \(offset - 1)")
                }
                parts[parts.count - 1].append(character)
                escaped = false
                previousWasStar = false
            } else if character == "\\" {
                escaped = true
            } else if character == "*" {
                guard !previousWasStar else {
                    throw Refusal(description: "has two stars in a row at position \(offset)")
                }
                parts.append([])
                previousWasStar = true
            } else {
                parts[parts.count - 1].append(character)
                previousWasStar = false
            }
        }
        guard !escaped else { throw Refusal(description: "ends with a lone backslash") }
        self.parts = parts
    }

    func matches(_ text: String) -> Bool {
        let characters = Array(text.unicodeScalars)
        guard parts.count > 1 else { return characters == parts[0] }
        let first = parts[0]
        let last = parts[parts.count - 1]
        guard characters.count >= first.count + last.count, characters.starts(with: first),
            characters.reversed().starts(with: last.reversed())
        else { return false }
        // The middle parts, each at its first place after the previous: the leftmost placement
        // leaves the most room for the rest.
        var position = first.count
        let end = characters.count - last.count
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let found = Self.find(part, in: characters, from: position, before: end) else { return false }
            position = found + part.count
        }
        return true
    }

    static func find(_ part: [Unicode.Scalar], in characters: [Unicode.Scalar], from start: Int, before end: Int)
        -> Int?
    {
        guard end - start >= part.count else { return nil }
        for index in start...(end - part.count) where characters[index..<index + part.count].elementsEqual(part) {
            return index
        }
        return nil
    }
}
