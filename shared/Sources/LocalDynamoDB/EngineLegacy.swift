import DynamoDBModel
import JSONCoding

/// The pre-expression ("legacy") parameters, still part of DynamoDB's API and still sent by older
/// SDK code and ORMs, translated into the same conditions, updates and projections the
/// expressions parse into. Source: DynamoDB Developer Guide, "Legacy conditional parameters"
/// (Expected, ConditionalOperator, AttributeUpdates, AttributesToGet, KeyConditions, QueryFilter,
/// ScanFilter) and the API Reference's Condition and ExpectedAttributeValue types.
enum Legacy {
    /// `Expected`: each attribute's Value/Exists or ComparisonOperator, joined by ConditionalOperator.
    static func expected(_ request: JSONValue) throws(DynamoDBError) -> Condition? {
        guard let expected = request["Expected"]?.objectValue else { return nil }
        var parts: [Condition] = []
        for (name, spec) in expected {
            let path = DocumentPath(elements: [.key(name)])
            let value = try spec["Value"].map { (v) throws(DynamoDBError) in try attribute(v, name) }
            let exists = spec["Exists"]?.boolValue
            if let op = spec["ComparisonOperator"]?.stringValue {
                guard value == nil, exists == nil else {
                    throw .validation(
                        "One or more parameter values were invalid: Value or Exists cannot be used with ComparisonOperator for Attribute: \(name)"
                    )
                }
                parts.append(try comparison(op, path, spec["AttributeValueList"], name: name))
            } else if exists == false {
                guard value == nil else {
                    throw .validation(
                        "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: \(name)"
                    )
                }
                parts.append(.attributeNotExists(path))
            } else {
                guard let value else {
                    throw .validation(
                        "One or more parameter values were invalid: Value must be provided when Exists is \(exists == nil ? "null" : "true") for Attribute: \(name)"
                    )
                }
                parts.append(.compare(.path(path), .eq, .value(value)))
            }
        }
        return try joined(parts, request)
    }

    /// `QueryFilter` / `ScanFilter`: attribute conditions joined by ConditionalOperator.
    static func filter(_ request: JSONValue, field: String) throws(DynamoDBError) -> Condition? {
        guard let filter = request[field]?.objectValue else { return nil }
        var parts: [Condition] = []
        for (name, spec) in filter {
            guard let op = spec["ComparisonOperator"]?.stringValue else {
                throw .validation(
                    "One or more parameter values were invalid: ComparisonOperator is required in \(field) for Attribute: \(name)"
                )
            }
            parts.append(
                try comparison(op, DocumentPath(elements: [.key(name)]), spec["AttributeValueList"], name: name))
        }
        return try joined(parts, request)
    }

    /// `KeyConditions`: always joined by AND, as a key condition is.
    static func keyConditions(_ request: JSONValue) throws(DynamoDBError) -> Condition? {
        guard let conditions = request["KeyConditions"]?.objectValue else { return nil }
        var result: Condition?
        for (name, spec) in conditions {
            guard let op = spec["ComparisonOperator"]?.stringValue else {
                throw .validation(
                    "One or more parameter values were invalid: ComparisonOperator is required for key: \(name)")
            }
            guard ["EQ", "LE", "LT", "GE", "GT", "BEGINS_WITH", "BETWEEN"].contains(op) else {
                throw .validation("Unsupported operator on KeyCondition: \(op)")
            }
            let part = try comparison(op, DocumentPath(elements: [.key(name)]), spec["AttributeValueList"], name: name)
            result = result.map { .and($0, part) } ?? part
        }
        return result
    }

    /// `AttributesToGet`: top-level attribute names.
    static func attributesToGet(_ request: JSONValue) throws(DynamoDBError) -> [DocumentPath]? {
        guard let names = request["AttributesToGet"] else { return nil }
        guard let list = names.arrayValue, !list.isEmpty, list.allSatisfy({ $0.stringValue != nil }) else {
            throw .validation(
                "1 validation error detected: Value at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )
        }
        let strings = list.compactMap(\.stringValue)
        guard Set(strings).count == strings.count else {
            throw .validation(
                "One or more parameter values were invalid: Duplicate value in attribute name: \(strings)")
        }
        return strings.map { DocumentPath(elements: [.key($0)]) }
    }

    /// `AttributeUpdates`: PUT (default), DELETE (the attribute, or elements of a set) and ADD
    /// (numbers, sets, and lists, which it appends to).
    static func attributeUpdates(_ request: JSONValue) throws(DynamoDBError) -> UpdateExpression? {
        guard let updates = request["AttributeUpdates"]?.objectValue else { return nil }
        var result = UpdateExpression()
        for (name, spec) in updates {
            let path = DocumentPath(elements: [.key(name)])
            let value = try spec["Value"].map { (v) throws(DynamoDBError) in try attribute(v, name) }
            switch spec["Action"]?.stringValue ?? "PUT" {
            case "PUT":
                guard let value else {
                    throw .validation(
                        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
                    )
                }
                result.sets.append((path, .value(value)))
            case "DELETE":
                guard let value else {
                    result.removes.append(path)
                    continue
                }
                guard ["SS", "NS", "BS"].contains(value.typeName) else {
                    throw .validation(
                        "One or more parameter values were invalid: DELETE action with value is not supported for the type \(value.typeName)"
                    )
                }
                result.deletes.append((path, value))
            case "ADD":
                guard let value else {
                    throw .validation(
                        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"
                    )
                }
                switch value {
                case .n, .ss, .ns, .bs: result.adds.append((path, value))
                case .l: result.sets.append((path, .listAppend(.ifNotExists(path, .value(.l([]))), .value(value))))
                default:
                    throw .validation(
                        "One or more parameter values were invalid: ADD action is not supported for the type \(value.typeName)"
                    )
                }
            case let action:
                throw .validation(
                    "1 validation error detected: Value '\(action)' at 'attributeUpdates.\(name).member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                )
            }
        }
        return result
    }

    // MARK: Conditions

    static func joined(_ parts: [Condition], _ request: JSONValue) throws(DynamoDBError) -> Condition? {
        let op = request["ConditionalOperator"]?.stringValue ?? "AND"
        guard op == "AND" || op == "OR" else {
            throw .validation(
                "1 validation error detected: Value '\(op)' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]"
            )
        }
        guard var result = parts.first else { return nil }
        for part in parts.dropFirst() { result = op == "AND" ? .and(result, part) : .or(result, part) }
        return result
    }

    static func attribute(_ value: JSONValue, _ name: String) throws(DynamoDBError) -> AttributeValue {
        do { return try AttributeValue(wire: value) } catch {
            throw Engine.refusal(
                error, "One or more parameter values were invalid: \(error.description) for Attribute: \(name)")
        }
    }

    /// One ComparisonOperator with its AttributeValueList, as the Condition type defines them.
    static func comparison(_ op: String, _ path: DocumentPath, _ list: JSONValue?, name: String)
        throws(DynamoDBError) -> Condition
    {
        let values = try (list?.arrayValue ?? []).map { (v) throws(DynamoDBError) in try attribute(v, name) }
        let arity: ClosedRange<Int>
        switch op {
        case "NULL", "NOT_NULL": arity = 0...0
        case "EQ", "NE", "LE", "LT", "GE", "GT", "CONTAINS", "NOT_CONTAINS", "BEGINS_WITH": arity = 1...1
        case "BETWEEN": arity = 2...2
        case "IN": arity = 1...Int.max
        default:
            throw .validation(
                "1 validation error detected: Value '\(op)' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"
            )
        }
        guard arity.contains(values.count) else {
            throw .validation(
                "One or more parameter values were invalid: Invalid number of argument(s) for the \(op) ComparisonOperator"
            )
        }
        let scalarOnly: Set<String> = ["LE", "LT", "GE", "GT", "BETWEEN", "IN", "CONTAINS", "NOT_CONTAINS"]
        for value in values where scalarOnly.contains(op) && !["S", "N", "B"].contains(value.typeName) {
            throw .validation(
                "One or more parameter values were invalid: ComparisonOperator \(op) is not valid for \(value.typeName) AttributeValue type"
            )
        }
        if op == "BEGINS_WITH", let value = values.first, !["S", "B"].contains(value.typeName) {
            throw .validation(
                "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for \(value.typeName) AttributeValue type"
            )
        }
        if op == "BETWEEN", values[0].typeName != values[1].typeName {
            throw .validation(
                "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
            )
        }
        let target = Operand.path(path)
        let isList = Condition.attributeType(path, .value(.s("L")))
        switch op {
        case "NULL": return .attributeNotExists(path)
        case "NOT_NULL": return .attributeExists(path)
        case "EQ": return .compare(target, .eq, .value(values[0]))
        case "NE": return .compare(target, .ne, .value(values[0]))
        case "LE": return .compare(target, .le, .value(values[0]))
        case "LT": return .compare(target, .lt, .value(values[0]))
        case "GE": return .compare(target, .ge, .value(values[0]))
        case "GT": return .compare(target, .gt, .value(values[0]))
        // Legacy CONTAINS looks into strings, binaries and sets, not lists (unlike contains()).
        case "CONTAINS": return .and(.not(isList), .contains(target, .value(values[0])))
        case "NOT_CONTAINS": return .or(isList, .not(.contains(target, .value(values[0]))))
        case "BEGINS_WITH": return .beginsWith(target, .value(values[0]))
        case "BETWEEN": return .between(target, .value(values[0]), .value(values[1]))
        default: return .inList(target, values.map { .value($0) })
        }
    }
}
