import HTTPAPI
import JSONCoding
import LambdaRuntime
import Logging
import Platform

enum Fixtures {
    static let directory: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/Events"
    }()

    static func event(_ name: String) throws -> [UInt8] { try FileBytes.read("\(directory)/\(name).json") }

    static let context = LambdaContext(
        requestID: "req-1", deadlineMilliseconds: WallClock.nowMilliseconds() + 10_000,
        invokedFunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:users", logger: Logger(label: "test"))
}

extension HTTPRequest {
    static func make(
        _ method: String, _ path: String, query: String = "", body: String? = nil,
        contentType: String? = "application/json"
    )
        -> HTTPRequest
    {
        var headers = HTTPHeaders()
        if let contentType, body != nil { headers.add("content-type", contentType) }
        return HTTPRequest(
            method: method, rawPath: path, rawQueryString: query, headers: headers, body: Array((body ?? "").utf8))
    }
}
