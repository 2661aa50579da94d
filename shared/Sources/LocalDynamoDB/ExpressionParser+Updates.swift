import DynamoDBModel

/// UpdateExpression, ProjectionExpression, and the entry points.
extension ExpressionParser {
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
                    let v = try substitutions.value(token, in: kind)
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
        for (_, value) in result.sets { try value.checkConstantOperands() }
        try DocumentPath.checkIndependent(result.allPaths, kind: "UpdateExpression")
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
            return .value(try substitutions.value(token, in: kind))
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
        // Key conditions check their operands against the key schema instead (EngineReads).
        if kind != "KeyConditionExpression" { try result.checkConstantOperands(kind: kind) }
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
        try DocumentPath.checkIndependent(result, kind: "ProjectionExpression")
        return result
    }
}
