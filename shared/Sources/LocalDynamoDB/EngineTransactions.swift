import DynamoDBModel
import JSONCoding

/// TransactWriteItems and TransactGetItems.
extension Engine {
    /// The refusals an action meets only against the item it writes, which cancel the transaction
    /// with a `ValidationError` reason for that action instead of failing the request (API
    /// Reference, TransactWriteItems, TransactionCanceledException: "Validation Error").
    static func failsAgainstTheItem(_ error: DynamoDBError) -> Bool {
        error.type.hasSuffix("ValidationException")
            && [
                "An operand in the update expression has an incorrect data type",
                "The provided expression refers to an attribute that does not exist in the item",
                "The document path provided in the update expression is invalid for update",
                "Item size to update has exceeded the maximum allowed size",
                "Number overflow", "Number underflow",
            ].contains { error.message.hasPrefix($0) }
    }

    func transactWriteItems(_ request: JSONValue) throws -> JSONValue {
        guard let actions = request["TransactItems"]?.arrayValue, !actions.isEmpty else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null"
            )
        }
        guard actions.count <= 100 else {
            throw DynamoDBError.validation(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
            )
        }
        if let token = request["ClientRequestToken"]?.stringValue {
            // "Length Constraints: Minimum length of 1. Maximum length of 36." (API_TransactWriteItems)
            guard (1...36).contains(token.count) else {
                throw DynamoDBError.validation(
                    "1 validation error detected: Value '\(token)' at 'clientRequestToken' failed to satisfy constraint: Member must have length \(token.isEmpty ? "greater than or equal to 1" : "less than or equal to 36")"
                )
            }
            transactionTokens = transactionTokens.filter { now() - $0.value.1 < 600_000 }
            if let (fingerprint, _) = transactionTokens[token] {
                if fingerprint == request["TransactItems"] { return [:] }
                throw DynamoDBError.idempotentMismatch()
            }
        }
        // "The aggregate size of the items in the transaction cannot exceed 4 MB" (Service quotas).
        let size = actions.reduce(0) { total, action in
            let body = action.objectValue?.members.first?.value
            return total + ((try? AttributeValue.item(wire: body?["Item"] ?? body?["Key"])).map(itemSize) ?? 0)
        }
        guard size <= 4 * 1024 * 1024 else {
            throw DynamoDBError.validation("Transaction request cannot be larger than 4 MB")
        }
        var usages: [CapacityUsage] = []
        try db.transaction {
            var writes: [PlannedWrite] = []
            var reasons: [JSONValue] = []
            var failed = false
            var seen: Set<[UInt8]> = []
            for action in actions {
                guard let (kind, body) = action.objectValue?.members.first.map({ ($0.key, $0.value) }) else {
                    throw DynamoDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete")
                }
                guard action.objectValue?.count == 1, let members = Parameters.transactionActions[kind], kind != "Get"
                else {
                    throw DynamoDBError.validation(
                        "TransactItems can only contain one of ConditionCheck, Put, Update or Delete")
                }
                try Parameters.check(
                    body, allowed: members.union(Parameters.expressions), context: "TransactWriteItems \(kind)")
                try Parameters.checkStyle(body)
                do {
                    let planned: PlannedWrite
                    switch kind {
                    case "Put": planned = try planPut(body)
                    case "Update": planned = try planUpdate(body)
                    case "Delete": planned = try planDelete(body)
                    case "ConditionCheck":
                        guard body["ConditionExpression"] != nil else {
                            throw DynamoDBError.validation(
                                "The ConditionExpression parameter is required for ConditionCheck")
                        }
                        var check = try planDelete(body)
                        check.new = check.old  // a check writes nothing
                        planned = check
                    default: throw DynamoDBError.validation("Invalid transaction action: \(kind)")
                    }
                    guard
                        seen.insert(Array(planned.table.name.utf8) + [0] + planned.key.pk + [0] + planned.key.sk)
                            .inserted
                    else {
                        throw DynamoDBError.validation(
                            "Transaction request cannot include multiple operations on one item")
                    }
                    if kind != "ConditionCheck" { writes.append(planned) }
                    reasons.append(["Code": "None"])
                } catch let error as DynamoDBError where error.type.hasSuffix("ConditionalCheckFailedException") {
                    failed = true
                    var reason: JSONObject = [
                        "Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
                    ]
                    if let item = error.extra["Item"] { reason["Item"] = item }
                    reasons.append(.object(reason))
                } catch let error as DynamoDBError where Self.failsAgainstTheItem(error) {
                    failed = true
                    reasons.append(["Code": "ValidationError", "Message": .string(error.message)])
                }
            }
            if failed {
                let codes = reasons.compactMap { $0["Code"]?.stringValue }.joined(separator: ", ")
                var error = DynamoDBError(
                    status: 400, type: DynamoDBError.dynamo + "TransactionCanceledException",
                    message: "Transaction cancelled, please refer cancellation reasons for specific reasons [\(codes)]")
                error.extra["CancellationReasons"] = .array(reasons)
                throw error
            }
            for write in writes { try commit(write) }
            usages =
                try CapacityUsage.mode(request) == nil
                ? []
                : writes.map { write in
                    var usage = CapacityUsage(table: write.table.name, transactional: true)
                    usage.write(write)
                    return usage
                }
        }
        if let token = request["ClientRequestToken"]?.stringValue {
            transactionTokens[token] = (request["TransactItems"]!, now())
        }
        return try CapacityUsage.attach(usages, to: [:], request)
    }

    func transactGetItems(_ request: JSONValue) throws -> JSONValue {
        guard let actions = request["TransactItems"]?.arrayValue, !actions.isEmpty, actions.count <= 100 else {
            throw DynamoDBError.validation("TransactItems must contain between 1 and 100 items")
        }
        var responses: [JSONValue] = []
        var usages: [CapacityUsage] = []
        for action in actions {
            guard let get = action["Get"], action.objectValue?.count == 1 else {
                throw DynamoDBError.validation("TransactGetItems only supports Get")
            }
            try Parameters.check(
                get, allowed: Parameters.transactionActions["Get"]!.union(["ExpressionAttributeNames"]),
                context: "TransactGetItems Get")
            let result = try getItem(get)
            responses.append(result["Item"].map { ["Item": $0] } ?? [:])
            let table = try table(get)
            var usage = CapacityUsage(table: table.name, transactional: true)
            let found = try? AttributeValue.item(wire: result["Item"] ?? .object([:]))
            usage.read(bytes: found.map(itemSize) ?? 0, consistent: true, index: nil)
            usages.append(usage)
        }
        return try CapacityUsage.attach(usages, to: ["Responses": .array(responses)], request)
    }
}
