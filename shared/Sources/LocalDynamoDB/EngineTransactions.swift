import DynamoDBModel
import JSONCoding
import LambdaRuntime

/// TransactWriteItems and TransactGetItems.
extension Engine {
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
            transactionTokens = transactionTokens.filter { now() - $0.value.1 < 600_000 }
            if let (fingerprint, _) = transactionTokens[token] {
                if fingerprint == request["TransactItems"] { return [:] }
                throw DynamoDBError.idempotentMismatch()
            }
        }
        try db.transaction {
            var writes: [PlannedWrite] = []
            var reasons: [JSONValue] = []
            var failed = false
            var seen: Set<[UInt8]> = []
            for action in actions {
                guard let (kind, body) = action.objectValue?.members.first.map({ ($0.key, $0.value) }) else {
                    throw DynamoDBError.validation("TransactItems can only contain one of Check, Put, Update or Delete")
                }
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
        }
        if let token = request["ClientRequestToken"]?.stringValue {
            transactionTokens[token] = (request["TransactItems"]!, now())
        }
        return [:]
    }

    func transactGetItems(_ request: JSONValue) throws -> JSONValue {
        guard let actions = request["TransactItems"]?.arrayValue, !actions.isEmpty, actions.count <= 100 else {
            throw DynamoDBError.validation("TransactItems must contain between 1 and 100 items")
        }
        var responses: [JSONValue] = []
        for action in actions {
            guard let get = action["Get"] else { throw DynamoDBError.validation("TransactGetItems only supports Get") }
            let result = try getItem(get)
            responses.append(result["Item"].map { ["Item": $0] } ?? [:])
        }
        return ["Responses": .array(responses)]
    }
}
