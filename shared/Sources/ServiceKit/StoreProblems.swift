import DynamoDB
import HTTPAPI
import Platform

/// DynamoDB refusals a client caused, answered as its problem rather than a 500.
extension DynamoDBClientError: ProblemConvertible {
    public var problem: HTTPProblem? {
        // An item over DynamoDB's 400 KB (UTF-8 attribute names and values, DYNAMODB_FACTS.md):
        // the request was too large to store; nothing was written.
        // utf8Offset, not String.contains: that one links the regex engine into every bootstrap.
        if case .validation(let message) = self,
            message.utf8Offset(of: "Item size has exceeded the maximum allowed size") != nil
        {
            return HTTPProblem(status: 413, detail: "the resource would be larger than the store's 400 KB item limit")
        }
        return nil
    }
}
