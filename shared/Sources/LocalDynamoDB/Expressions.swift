import DynamoDBModel

/// An operand of a condition: a document path, a `:value`, or `size(path)`.
indirect enum Operand {
    case path(DocumentPath)
    case value(AttributeValue)
    case size(DocumentPath)
}

enum Comparator: String {
    case eq = "="
    case ne = "<>"
    case lt = "<"
    case le = "<="
    case gt = ">"
    case ge = ">="
}

indirect enum Condition {
    case compare(Operand, Comparator, Operand)
    case between(Operand, Operand, Operand)
    case inList(Operand, [Operand])
    case and(Condition, Condition)
    case or(Condition, Condition)
    case not(Condition)
    case attributeExists(DocumentPath)
    case attributeNotExists(DocumentPath)
    case attributeType(DocumentPath, Operand)
    case beginsWith(Operand, Operand)
    case contains(Operand, Operand)
}

indirect enum UpdateValue {
    case path(DocumentPath)
    case value(AttributeValue)
    case ifNotExists(DocumentPath, UpdateValue)
    case listAppend(UpdateValue, UpdateValue)
    case plus(UpdateValue, UpdateValue)
    case minus(UpdateValue, UpdateValue)
}

struct UpdateExpression {
    var sets: [(DocumentPath, UpdateValue)] = []
    var removes: [DocumentPath] = []
    var adds: [(DocumentPath, AttributeValue)] = []
    var deletes: [(DocumentPath, AttributeValue)] = []

    var allPaths: [DocumentPath] { sets.map(\.0) + removes + adds.map(\.0) + deletes.map(\.0) }
}

/// The `#name` and `:value` substitutions of one request, with use tracking: DynamoDB rejects
/// a request that supplies a placeholder no expression uses.
final class Substitutions {
    let names: [String: String]
    let values: [String: AttributeValue]
    private(set) var usedNames: Set<String> = []
    private(set) var usedValues: Set<String> = []

    init(names: [String: String], values: [String: AttributeValue]) {
        self.names = names
        self.values = values
    }

    func name(_ token: String) throws(DynamoDBError) -> String {
        guard let name = names[token] else {
            throw .validation(
                "Value provided in ExpressionAttributeNames unused in expressions: An expression attribute name used in the document path is not defined; attribute name: \(token)"
            )
        }
        usedNames.insert(token)
        return name
    }

    func value(_ token: String) throws(DynamoDBError) -> AttributeValue {
        guard let value = values[token] else {
            throw .validation(
                "An expression attribute value used in expression is not defined; attribute value: \(token)")
        }
        usedValues.insert(token)
        return value
    }

    func checkAllUsed() throws(DynamoDBError) {
        let unusedNames = Set(names.keys).subtracting(usedNames)
        if !unusedNames.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {\(unusedNames.sorted().joined(separator: ", "))}"
            )
        }
        let unusedValues = Set(values.keys).subtracting(usedValues)
        if !unusedValues.isEmpty {
            throw .validation(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {\(unusedValues.sorted().joined(separator: ", "))}"
            )
        }
    }
}

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
                "Invalid \(kind): Expression size has exceeded the maximum allowed size; expression size: \(text.utf8.count)")
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
            return try substitutions.name(token)
        default:
            throw syntaxError("expected an attribute name near \(describe(current))")
        }
    }

    // MARK: Conditions

    mutating func condition() throws(DynamoDBError) -> Condition {
        var left = try conjunction()
        while isKeyword("OR") {
            advance()
            left = .or(left, try conjunction())
        }
        return left
    }

    mutating func conjunction() throws(DynamoDBError) -> Condition {
        var left = try negation()
        while isKeyword("AND") {
            advance()
            left = .and(left, try negation())
        }
        return left
    }

    mutating func negation() throws(DynamoDBError) -> Condition {
        if isKeyword("NOT") {
            advance()
            try nest()
            defer { depth -= 1 }
            return .not(try negation())
        }
        return try primary()
    }

    mutating func primary() throws(DynamoDBError) -> Condition {
        if current == .symbol("(") {
            // "((a = :v))": DynamoDB refuses parentheses that only wrap other parentheses.
            if tokens[position + 1] == .symbol("("), let inner = closing(position + 1), tokens[inner + 1] == .symbol(")") {
                throw .validation("Invalid \(kind): The expression has redundant parentheses;")
            }
            advance()
            try nest()
            defer { depth -= 1 }
            let inner = try condition()
            try expect(")")
            return inner
        }
        if case .identifier(let word) = current, tokens[position + 1] == .symbol("(") {
            let function = word.lowercased()
            switch function {
            case "attribute_exists", "attribute_not_exists":
                advance()
                advance()
                let p = try path()
                try expect(")")
                return function == "attribute_exists" ? .attributeExists(p) : .attributeNotExists(p)
            case "attribute_type":
                advance()
                advance()
                let p = try path()
                try expect(",")
                let type = try operand()
                try expect(")")
                return .attributeType(p, type)
            case "begins_with", "contains":
                advance()
                advance()
                let a = try operand()
                try expect(",")
                let b = try operand()
                try expect(")")
                return function == "begins_with" ? .beginsWith(a, b) : .contains(a, b)
            case "size":
                break  // an operand; handled below
            default:
                throw .validation("Invalid \(kind): Invalid function name; function: \(word)")
            }
        }
        let left = try operand()
        if isKeyword("BETWEEN") {
            advance()
            let low = try operand()
            guard isKeyword("AND") else { throw syntaxError("BETWEEN needs AND") }
            advance()
            let high = try operand()
            // Bounds given as values are checked up front, whatever the item holds.
            if case .value(let lo) = low, case .value(let hi) = high, let order = compareScalars(lo, hi), order > 0 {
                throw .validation(
                    "Invalid \(kind): The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(lo.typeName):\(lo)}, upper bound operand: AttributeValue: {\(hi.typeName):\(hi)}"
                )
            }
            return .between(left, low, high)
        }
        if isKeyword("IN") {
            advance()
            try expect("(")
            var options = [try operand()]
            while current == .symbol(",") {
                advance()
                options.append(try operand())
            }
            try expect(")")
            // "The maximum number of operands for the IN comparator is 100."
            guard options.count <= 100 else {
                throw .validation(
                    "Invalid \(kind): The IN operator is provided with too many operands; number of operands: \(options.count)")
            }
            return .inList(left, options)
        }
        guard case .symbol(let s) = current, let comparator = Comparator(rawValue: s) else {
            throw syntaxError("token: \(describe(current)), near: \(describe(current))")
        }
        advance()
        return .compare(left, comparator, try operand())
    }

    mutating func operand() throws(DynamoDBError) -> Operand {
        switch current {
        case .value(let token):
            advance()
            return .value(try substitutions.value(token))
        case .identifier(let word) where word.lowercased() == "size" && tokens[position + 1] == .symbol("("):
            advance()
            advance()
            let p = try path()
            try expect(")")
            return .size(p)
        default:
            return .path(try path())
        }
    }

    // MARK: Update expressions

    mutating func update() throws(DynamoDBError) -> UpdateExpression {
        var result = UpdateExpression()
        var seen: Set<String> = []
        while current != .end {
            guard case .identifier(let word) = current else {
                throw syntaxError("expected SET, REMOVE, ADD or DELETE near \(describe(current))")
            }
            let clause = word.uppercased()
            guard ["SET", "REMOVE", "ADD", "DELETE"].contains(clause) else {
                throw syntaxError("token: \"\(word)\", near: \"\(word)\"")
            }
            guard seen.insert(clause).inserted else {
                throw .validation(
                    "Invalid UpdateExpression: The \"\(clause)\" section can only be used once in an update expression;"
                )
            }
            advance()
            repeat {
                switch clause {
                case "SET":
                    let p = try path()
                    try expect("=")
                    result.sets.append((p, try setValue()))
                case "REMOVE":
                    result.removes.append(try path())
                case "ADD", "DELETE":
                    let p = try path()
                    guard case .value(let token) = current else { throw syntaxError("\(clause) needs a :value") }
                    advance()
                    let v = try substitutions.value(token)
                    if clause == "ADD" { result.adds.append((p, v)) } else { result.deletes.append((p, v)) }
                default: break
                }
                operators += 1
                if current == .symbol(",") { advance() } else { break }
            } while true
        }
        // "The maximum number of operators or functions allowed in an UpdateExpression is 300."
        guard operators <= 300 else {
            throw .validation(
                "Invalid UpdateExpression: The expression contains too many operators; operator count: \(operators)")
        }
        let paths = result.allPaths
        for i in paths.indices {
            for j in paths.indices where j > i && paths[i].overlaps(paths[j]) {
                throw .validation(
                    "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [\(paths[i])], path two: [\(paths[j])]"
                )
            }
        }
        return result
    }

    mutating func setValue() throws(DynamoDBError) -> UpdateValue {
        let left = try setOperand()
        if current == .symbol("+") || current == .symbol("-") { operators += 1 }
        if current == .symbol("+") {
            advance()
            return .plus(left, try setOperand())
        }
        if current == .symbol("-") {
            advance()
            return .minus(left, try setOperand())
        }
        return left
    }

    mutating func setOperand() throws(DynamoDBError) -> UpdateValue {
        if case .identifier(let word) = current, tokens[position + 1] == .symbol("(") {
            try nest()
            defer { depth -= 1 }
            operators += 1
            switch word.lowercased() {
            case "if_not_exists":
                advance()
                advance()
                let p = try path()
                try expect(",")
                let fallback = try setOperand()
                try expect(")")
                return .ifNotExists(p, fallback)
            case "list_append":
                advance()
                advance()
                let a = try setOperand()
                try expect(",")
                let b = try setOperand()
                try expect(")")
                return .listAppend(a, b)
            default:
                throw .validation("Invalid UpdateExpression: Invalid function name; function: \(word)")
            }
        }
        if case .value(let token) = current {
            advance()
            return .value(try substitutions.value(token))
        }
        return .path(try path())
    }

    // MARK: Projections

    mutating func projection() throws(DynamoDBError) -> [DocumentPath] {
        var paths = [try path()]
        while current == .symbol(",") {
            advance()
            paths.append(try path())
        }
        return paths
    }

    // MARK: Entry points

    static func parseCondition(_ text: String, kind: String, _ substitutions: Substitutions) throws(DynamoDBError)
        -> Condition
    {
        var parser = try ExpressionParser(text, kind: kind, substitutions: substitutions)
        let result = try parser.condition()
        try parser.finish()
        return result
    }

    static func parseUpdate(_ text: String, _ substitutions: Substitutions) throws(DynamoDBError) -> UpdateExpression {
        var parser = try ExpressionParser(text, kind: "UpdateExpression", substitutions: substitutions)
        let result = try parser.update()
        try parser.finish()
        return result
    }

    static func parseProjection(_ text: String, _ substitutions: Substitutions) throws(DynamoDBError) -> [DocumentPath]
    {
        var parser = try ExpressionParser(text, kind: "ProjectionExpression", substitutions: substitutions)
        let result = try parser.projection()
        try parser.finish()
        return result
    }
}
