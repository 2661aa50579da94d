import DynamoDBModel

/// Conditions: ConditionExpression, FilterExpression, KeyConditionExpression.
extension ExpressionParser {
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
            if tokens[position + 1] == .symbol("("), let inner = closing(position + 1),
                tokens[inner + 1] == .symbol(")")
            {
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
                    "Invalid \(kind): The IN operator is provided with too many operands; number of operands: \(options.count)"
                )
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
            return .value(try substitutions.value(token, in: kind))
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
}
