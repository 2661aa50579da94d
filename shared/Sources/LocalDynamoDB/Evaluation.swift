import DynamoDBModel

extension Operand {
    func resolve(in item: Item) -> AttributeValue? {
        switch self {
        case .value(let v): return v
        case .path(let p): return p.get(item)
        case .size(let p):
            guard let v = p.get(item) else { return nil }
            let size: Int? =
                switch v {
                case .s(let s): s.utf8.count
                case .b(let b): b.count
                case .ss(let s): s.count
                case .ns(let n): n.count
                case .bs(let b): b.count
                case .m(let m): m.count
                case .l(let l): l.count
                default: nil
                }
            return size.map { .n(DynamoNumber($0)) }
        }
    }
}

/// DynamoDB ordering for scalars of the same type (S by UTF-8 bytes, N numerically, B bytewise).
func compareScalars(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
    switch (a, b) {
    case (.s(let x), .s(let y)): return lexicographic(Array(x.utf8), Array(y.utf8))
    case (.n(let x), .n(let y)): return x == y ? 0 : (x < y ? -1 : 1)
    case (.b(let x), .b(let y)): return lexicographic(x, y)
    default: return nil
    }
}

func lexicographic(_ a: [UInt8], _ b: [UInt8]) -> Int {
    for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

extension Operand {
    var topLevelNames: Set<String> {
        switch self {
        case .path(let p), .size(let p): [p.topLevel]
        case .value: []
        }
    }
}

extension Condition {
    /// The top-level attributes a condition reads.
    var topLevelNames: Set<String> {
        switch self {
        case .compare(let a, _, let b), .beginsWith(let a, let b), .contains(let a, let b):
            a.topLevelNames.union(b.topLevelNames)
        case .between(let a, let b, let c): a.topLevelNames.union(b.topLevelNames).union(c.topLevelNames)
        case .inList(let a, let list): list.reduce(a.topLevelNames) { $0.union($1.topLevelNames) }
        case .and(let a, let b), .or(let a, let b): a.topLevelNames.union(b.topLevelNames)
        case .not(let a): a.topLevelNames
        case .attributeExists(let p), .attributeNotExists(let p): [p.topLevel]
        case .attributeType(let p, let t): t.topLevelNames.union([p.topLevel])
        }
    }

    func evaluate(_ item: Item) throws(DynamoDBError) -> Bool {
        switch self {
        case .and(let a, let b):
            guard try a.evaluate(item) else { return false }
            return try b.evaluate(item)
        case .or(let a, let b):
            if try a.evaluate(item) { return true }
            return try b.evaluate(item)
        case .not(let a): return try !a.evaluate(item)
        case .attributeExists(let p): return p.get(item) != nil
        case .attributeNotExists(let p): return p.get(item) == nil
        case .attributeType(let p, let type):
            guard case .s(let name)? = type.resolve(in: item) else {
                throw .incorrectOperandType(
                    in: "ConditionExpression", "attribute_type", type.resolve(in: item)?.typeName ?? "missing")
            }
            guard ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"].contains(name) else {
                throw .validation(
                    "Invalid ConditionExpression: Invalid attribute type name found in type condition of attribute_type function: \(name)"
                )
            }
            return p.get(item)?.typeName == name
        case .beginsWith(let a, let b):
            switch (a.resolve(in: item), b.resolve(in: item)) {
            case (.s(let x)?, .s(let y)?): return x.utf8.starts(with: y.utf8)
            case (.b(let x)?, .b(let y)?): return x.starts(with: y)
            default: return false
            }
        case .contains(let a, let b):
            guard let container = a.resolve(in: item), let element = b.resolve(in: item) else { return false }
            switch (container, element) {
            case (.s(let x), .s(let y)): return y.isEmpty || x.contains(y)
            case (.ss(let x), .s(let y)): return x.contains(y)
            case (.ns(let x), .n(let y)): return x.contains(y)
            case (.bs(let x), .b(let y)): return x.contains(y)
            case (.b(let x), .b(let y)):
                return y.isEmpty || (0...max(0, x.count - y.count)).contains { x[$0...].starts(with: y) }
            case (.l(let x), _): return x.contains(element)
            default: return false
            }
        case .compare(let a, let op, let b):
            // A missing operand equals nothing: only <> holds.
            guard let x = a.resolve(in: item), let y = b.resolve(in: item) else { return op == .ne }
            switch op {
            case .eq: return x == y
            case .ne: return x != y
            default:
                guard let order = compareScalars(x, y) else { return false }
                switch op {
                case .lt: return order < 0
                case .le: return order <= 0
                case .gt: return order > 0
                case .ge: return order >= 0
                default: return false
                }
            }
        case .between(let v, let low, let high):
            guard let x = v.resolve(in: item), let lo = low.resolve(in: item), let hi = high.resolve(in: item),
                let a = compareScalars(x, lo), let b = compareScalars(x, hi)
            else { return false }
            if let bounds = compareScalars(lo, hi), bounds > 0 {
                throw .validation(
                    "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(lo.typeName):\(lo)}, upper bound operand: AttributeValue: {\(hi.typeName):\(hi)}"
                )
            }
            return a >= 0 && b <= 0
        case .inList(let v, let options):
            guard let x = v.resolve(in: item) else { return false }
            return options.contains { $0.resolve(in: item) == x }
        }
    }
}

extension UpdateExpression {
    /// Applies the update to a copy of the item. Key attributes may not change.
    func apply(to original: Item, keyAttributes: Set<String>) throws(DynamoDBError) -> Item {
        for path in allPaths where keyAttributes.contains(path.topLevel) {
            throw .validation(
                "One or more parameter values were invalid: Cannot update attribute \(path.topLevel). This attribute is part of the key"
            )
        }
        var item = original
        // Every right-hand side reads the item as it was before this update.
        let values = try sets.map { (path, value) throws(DynamoDBError) in (path, try value.evaluate(original)) }
        for (path, value) in values { try path.set(value, in: &item) }
        for path in removes { path.remove(from: &item) }
        for (path, value) in adds {
            let existing = path.get(item)
            let result: AttributeValue
            switch (existing, value) {
            case (nil, .n), (nil, .ss), (nil, .ns), (nil, .bs): result = value
            case (.n(let a)?, .n(let b)): result = .n(try checked(a + b))
            case (.ss(let a)?, .ss(let b)): result = .ss(a + b.filter { !a.contains($0) })
            case (.ns(let a)?, .ns(let b)): result = .ns(a + b.filter { !a.contains($0) })
            case (.bs(let a)?, .bs(let b)): result = .bs(a + b.filter { !a.contains($0) })
            default:
                throw .validation("An operand in the update expression has an incorrect data type")
            }
            try path.set(result, in: &item)
        }
        for (path, value) in deletes {
            guard let existing = path.get(item) else { continue }
            let remaining: AttributeValue?
            switch (existing, value) {
            case (.ss(let a), .ss(let b)):
                remaining = a.filter { !b.contains($0) }.isEmpty ? nil : .ss(a.filter { !b.contains($0) })
            case (.ns(let a), .ns(let b)):
                remaining = a.filter { !b.contains($0) }.isEmpty ? nil : .ns(a.filter { !b.contains($0) })
            case (.bs(let a), .bs(let b)):
                remaining = a.filter { !b.contains($0) }.isEmpty ? nil : .bs(a.filter { !b.contains($0) })
            default: throw .validation("An operand in the update expression has an incorrect data type")
            }
            if let remaining { try path.set(remaining, in: &item) } else { path.remove(from: &item) }
        }
        return item
    }
}

/// Arithmetic results must be storable numbers (38 digits, magnitude 1E-130 to 1E+125).
func checked(_ number: DynamoNumber) throws(DynamoDBError) -> DynamoNumber {
    if let problem = number.storageProblem { throw .validation(problem) }
    return number
}

extension UpdateValue {
    var isPlus: Bool {
        if case .plus = self { return true }
        return false
    }

    func evaluate(_ item: Item) throws(DynamoDBError) -> AttributeValue {
        switch self {
        case .value(let v): return v
        case .path(let p):
            guard let v = p.get(item) else {
                throw .validation("The provided expression refers to an attribute that does not exist in the item")
            }
            return v
        case .ifNotExists(let p, let fallback):
            if let existing = p.get(item) { return existing }
            return try fallback.evaluate(item)
        case .listAppend(let a, let b):
            guard case .l(let x) = try a.evaluate(item), case .l(let y) = try b.evaluate(item) else {
                throw .validation("An operand in the update expression has an incorrect data type")
            }
            return .l(x + y)
        case .plus(let a, let b), .minus(let a, let b):
            guard case .n(let x) = try a.evaluate(item), case .n(let y) = try b.evaluate(item) else {
                throw .validation("An operand in the update expression has an incorrect data type")
            }
            return .n(try checked(self.isPlus ? x + y : x - y))
        }
    }
}

/// Keeps only the projected paths of an item.
func project(_ item: Item, _ paths: [DocumentPath]?) -> Item {
    guard let paths else { return item }
    var result: Item = [:]
    for path in paths {
        guard let value = path.get(item) else { continue }
        guard path.elements.count > 1 else {
            result[path.topLevel] = value
            continue
        }
        // Rebuild the nesting: maps keep keys; list elements keep their relative order.
        var container = result[path.topLevel]
        insert(value, at: path.elements.dropFirst(), into: &container)
        result[path.topLevel] = container
    }
    return result
}

private func insert(
    _ value: AttributeValue, at path: ArraySlice<DocumentPath.Element>, into container: inout AttributeValue?
) {
    guard let head = path.first else {
        container = value
        return
    }
    switch head {
    case .key(let k):
        var map: [String: AttributeValue] = [:]
        if case .m(let existing)? = container { map = existing }
        var child = map[k]
        insert(value, at: path.dropFirst(), into: &child)
        map[k] = child
        container = .m(map)
    case .index:
        var list: [AttributeValue] = []
        if case .l(let existing)? = container { list = existing }
        var child: AttributeValue? = nil
        insert(value, at: path.dropFirst(), into: &child)
        if let child { list.append(child) }
        container = .l(list)
    }
}
