import DynamoDBModel

/// Recursive-descent parser for DynamoDB's expression grammar.
struct ExpressionParser {
    enum Token: Equatable {
        case identifier(String)
        case name(String)  // #placeholder
        case value(String)  // :placeholder
        case number(Int)
        case symbol(String)
        case end
    }

    let kind: String
    let text: String
    var tokens: [Token] = []
    var position = 0
    /// Open parentheses, NOTs and nested function calls: bounded, so no input can exhaust the stack.
    var depth = 0
    /// Actions, functions and arithmetic in an UpdateExpression (at most 300).
    var operators = 0
    let substitutions: Substitutions

    /// DynamoDB's limit on every expression string ("Service, account, and table quotas": 4 KB).
    static let maxBytes = 4096
    /// Deliberately below what 4 KB could nest: DynamoDB documents no limit, a stack has one.
    static let maxDepth = 100
    /// "The maximum depth for a document path is 32."
    static let maxPathDepth = 32

    init(_ text: String, kind: String, substitutions: Substitutions) throws(DynamoDBError) {
        self.kind = kind
        self.text = text
        self.substitutions = substitutions
        guard !text.allSatisfy({ $0 == " " }) else {
            throw .validation("Invalid \(kind): The expression can not be empty;")
        }
        guard text.utf8.count <= Self.maxBytes else {
            throw .validation(
                "Invalid \(kind): Expression size has exceeded the maximum allowed size; expression size: \(text.utf8.count)"
            )
        }
        tokens = try tokenize(Array(text.unicodeScalars))
    }

    /// The index of the parenthesis closing the one at `open`, if any.
    func closing(_ open: Int) -> Int? {
        var depth = 0
        for index in open..<tokens.count {
            if tokens[index] == .symbol("(") { depth += 1 }
            if tokens[index] == .symbol(")") {
                depth -= 1
                if depth == 0 { return index }
            }
        }
        return nil
    }

    /// Enters one nesting level (parenthesis, NOT, function argument).
    mutating func nest() throws(DynamoDBError) {
        depth += 1
        if depth > Self.maxDepth {
            throw .validation(
                "Invalid \(kind): The expression has too many nested levels; maximum: \(Self.maxDepth)")
        }
    }

    func syntaxError(_ detail: String) -> DynamoDBError {
        .validation("Invalid \(kind): Syntax error; \(detail)")
    }

    func tokenize(_ scalars: [Unicode.Scalar]) throws(DynamoDBError) -> [Token] {
        var result: [Token] = []
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_"
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            if c == "#" || c == ":" {
                var j = i + 1
                while j < scalars.count, isWord(scalars[j]) { j += 1 }
                guard j > i + 1 else { throw syntaxError("token: \"\(c)\", near: \"\(c)\"") }
                let word = String(String.UnicodeScalarView(scalars[i..<j]))
                result.append(c == "#" ? .name(word) : .value(word))
                i = j
                continue
            }
            if c >= "0" && c <= "9" {
                var j = i
                while j < scalars.count, scalars[j] >= "0" && scalars[j] <= "9" { j += 1 }
                result.append(.number(Int(String(String.UnicodeScalarView(scalars[i..<j]))) ?? Int.max))
                i = j
                continue
            }
            if isWord(c) {
                var j = i
                while j < scalars.count, isWord(scalars[j]) { j += 1 }
                result.append(.identifier(String(String.UnicodeScalarView(scalars[i..<j]))))
                i = j
                continue
            }
            let two = i + 1 < scalars.count ? String(String.UnicodeScalarView([c, scalars[i + 1]])) : ""
            if ["<>", "<=", ">="].contains(two) {
                result.append(.symbol(two))
                i += 2
                continue
            }
            if "=<>(),.[]+-".unicodeScalars.contains(c) {
                result.append(.symbol(String(c)))
                i += 1
                continue
            }
            throw syntaxError("token: \"\(c)\"")
        }
        result.append(.end)
        return result
    }

    var current: Token { tokens[position] }

    mutating func advance() { position += 1 }

    func isKeyword(_ word: String) -> Bool {
        if case .identifier(let w) = current { return w.uppercased() == word }
        return false
    }

    mutating func expect(_ symbol: String) throws(DynamoDBError) {
        guard current == .symbol(symbol) else {
            throw syntaxError("expected '\(symbol)' near token \(describe(current))")
        }
        advance()
    }

    func describe(_ token: Token) -> String {
        switch token {
        case .identifier(let s), .name(let s), .value(let s), .symbol(let s): "\"\(s)\""
        case .number(let n): "\"\(n)\""
        case .end: "<EOF>"
        }
    }

    mutating func finish() throws(DynamoDBError) {
        guard current == .end else { throw syntaxError("token: \(describe(current)), near: \(describe(current))") }
    }

    // MARK: Paths

    mutating func path() throws(DynamoDBError) -> DocumentPath {
        var elements: [DocumentPath.Element] = [.key(try pathName())]
        while true {
            if elements.count > Self.maxPathDepth {
                throw .validation(
                    "Invalid \(kind): The document path has too many nesting levels; nesting levels: \(elements.count)")
            }
            if current == .symbol(".") {
                advance()
                elements.append(.key(try pathName()))
            } else if current == .symbol("[") {
                advance()
                guard case .number(let n) = current else { throw syntaxError("a list index must be a number") }
                advance()
                try expect("]")
                elements.append(.index(n))
            } else {
                return DocumentPath(elements: elements)
            }
        }
    }

    mutating func pathName() throws(DynamoDBError) -> String {
        switch current {
        case .identifier(let word):
            guard !word.first!.isNumber else { throw syntaxError("token: \"\(word)\"") }
            guard !reservedWords.contains(word.uppercased()) else {
                throw .validation("Invalid \(kind): Attribute name is a reserved keyword; reserved keyword: \(word)")
            }
            advance()
            return word
        case .name(let token):
            advance()
            return try substitutions.name(token, in: kind)
        default:
            throw syntaxError("expected an attribute name near \(describe(current))")
        }
    }
}
