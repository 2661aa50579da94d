import DynamoDBModel

/// `a.b[2].c`: where an expression reads or writes inside an item.
struct DocumentPath: Hashable, CustomStringConvertible {
    enum Element: Hashable {
        case key(String)
        case index(Int)
    }
    var elements: [Element]

    var description: String {
        elements.enumerated().map { i, e in
            switch e {
            case .key(let k): i == 0 ? k : ".\(k)"
            case .index(let n): "[\(n)]"
            }
        }.joined()
    }

    var topLevel: String {
        if case .key(let k) = elements[0] { return k }
        return ""
    }

    func get(_ item: Item) -> AttributeValue? {
        guard case .key(let first) = elements[0], var current = item[first] else { return nil }
        for element in elements.dropFirst() {
            switch (element, current) {
            case (.key(let k), .m(let map)):
                guard let next = map[k] else { return nil }
                current = next
            case (.index(let i), .l(let list)):
                guard i < list.count else { return nil }
                current = list[i]
            default: return nil
            }
        }
        return current
    }

    /// Writes a value; every parent must exist. An index past the end of a list appends.
    func set(_ value: AttributeValue, in item: inout Item) throws(DynamoDBError) {
        guard case .key(let first) = elements[0] else { throw .validation("Invalid document path") }
        if elements.count == 1 {
            item[first] = value
            return
        }
        guard var root = item[first] else {
            throw .validation("The document path provided in the update expression is invalid for update")
        }
        try Self.set(value, in: &root, path: elements.dropFirst())
        item[first] = root
    }

    private static func set(_ value: AttributeValue, in container: inout AttributeValue, path: ArraySlice<Element>)
        throws(DynamoDBError)
    {
        let invalid = DynamoDBError.validation(
            "The document path provided in the update expression is invalid for update")
        let head = path.first!
        let rest = path.dropFirst()
        switch (head, container) {
        case (.key(let k), .m(var map)):
            if rest.isEmpty {
                map[k] = value
            } else {
                guard var child = map[k] else { throw invalid }
                try set(value, in: &child, path: rest)
                map[k] = child
            }
            container = .m(map)
        case (.index(let i), .l(var list)):
            if rest.isEmpty {
                if i < list.count { list[i] = value } else { list.append(value) }
            } else {
                guard i < list.count else { throw invalid }
                try set(value, in: &list[i], path: rest)
            }
            container = .l(list)
        default: throw invalid
        }
    }

    /// Removes the value at the path if present; list elements after it shift down.
    func remove(from item: inout Item) {
        guard case .key(let first) = elements[0] else { return }
        if elements.count == 1 {
            item[first] = nil
            return
        }
        guard var root = item[first] else { return }
        Self.remove(in: &root, path: elements.dropFirst())
        item[first] = root
    }

    private static func remove(in container: inout AttributeValue, path: ArraySlice<Element>) {
        let head = path.first!
        let rest = path.dropFirst()
        switch (head, container) {
        case (.key(let k), .m(var map)):
            if rest.isEmpty {
                map[k] = nil
            } else if var child = map[k] {
                remove(in: &child, path: rest)
                map[k] = child
            }
            container = .m(map)
        case (.index(let i), .l(var list)):
            guard i < list.count else { return }
            if rest.isEmpty { list.remove(at: i) } else { remove(in: &list[i], path: rest) }
            container = .l(list)
        default: return
        }
    }

    /// How DynamoDB's messages show a path: `[a, b, [1]]`.
    var listed: String {
        "["
            + elements.map { e in
                switch e {
                case .key(let k): k
                case .index(let n): "[\(n)]"
                }
            }.joined(separator: ", ") + "]"
    }

    /// Why one update or projection may not name both paths: one is a prefix of the other
    /// ("overlap"), or they agree up to an element one reads as a map key and the other as a list
    /// index ("conflict", no item can have both); nil when they are independent.
    func clash(with other: DocumentPath) -> String? {
        for (mine, theirs) in zip(elements, other.elements) {
            switch (mine, theirs) {
            case (.key, .index), (.index, .key): return "conflict"
            default: if mine != theirs { return nil }
            }
        }
        return "overlap"
    }

    /// The first clash among `paths`, as DynamoDB reports it in `kind` (observed: dynalite's and
    /// Alternator's suites, run against DynamoDB, quote these messages).
    static func checkIndependent(_ paths: [DocumentPath], kind: String) throws(DynamoDBError) {
        for i in paths.indices {
            for j in paths.indices where j > i {
                guard let clash = paths[i].clash(with: paths[j]) else { continue }
                throw .validation(
                    "Invalid \(kind): Two document paths \(clash) with each other; must remove or rewrite one of these paths; path one: \(paths[i].listed), path two: \(paths[j].listed)"
                )
            }
        }
    }
}
