import HTTPAPI
import JSONCoding
import LambdaRuntime
import Testing

/// `HTTPResponse.streamed` through `HTTPLambdaHandler`: on a route whose invocations stream, the
/// HTTP integration's prelude, eight NUL bytes, then the body as written (RUNTIME_API.md,
/// "Response streaming"; API Gateway Developer Guide, "Lambda proxy integration format for response
/// streaming"); on any other route, one buffered answer gathered from the same stream.
struct StreamedResponseTests {
    struct Broken: Error {}

    static func handler(streaming: Set<String>, lines: Int = 3, failAfter: Int? = nil) -> HTTPLambdaHandler {
        var router = Router()
        let stream: HTTPHandlerFunction = { _, _ in
            var headers = HTTPHeaders()
            headers.add("x-export", "yes")
            headers.add("x-export", "again")
            var response = HTTPResponse.streamed(headers: headers, contentType: "application/x-ndjson") { body in
                for n in 0..<lines {
                    if n == failAfter { throw Broken() }
                    try await body.write("{\"n\":\(n)}\n")
                }
            }
            response.cookies = ["session=abc"]
            return response
        }
        router.on("PUT /users/{id}", stream)
        router.on("GET /users/{id}", stream)
        return HTTPLambdaHandler(router: router, streamingRoutes: streaming)
    }

    static func gather(_ answer: LambdaResponse) async throws -> (contentType: String?, bytes: [UInt8]) {
        switch answer {
        case .buffered(let bytes): return (nil, bytes)
        case .streamed(let contentType, let body):
            let gathered = Gathered()
            try await body(LambdaResponseWriter { gathered.append($0) })
            return (contentType, gathered.bytes)
        }
    }

    final class Gathered: @unchecked Sendable {
        var bytes: [UInt8] = []
        func append(_ chunk: [UInt8]) { bytes += chunk }
    }

    @Test func aStreamingRouteAnswersWithThePreludeThenTheBody() async throws {
        let handler = Self.handler(streaming: ["PUT /users/{id}"])
        let answer = try await handler.respond(to: try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        let (contentType, bytes) = try await Self.gather(answer)
        #expect(contentType == "application/vnd.awslambda.http-integration-response")
        let delimiter = try #require(bytes.firstRange(of: [UInt8](repeating: 0, count: 8)))
        let prelude = try JSONValue.parse(Array(bytes[..<delimiter.lowerBound]))
        // Payload 2.0's shape: single-valued headers (repeats comma-joined), cookies on their own.
        #expect(prelude["statusCode"] == .number("200"))
        #expect(prelude["headers"]?["content-type"] == "application/x-ndjson")
        #expect(prelude["headers"]?["x-export"] == "yes,again")
        #expect(prelude["cookies"] == .array(["session=abc"]))
        #expect(prelude["body"] == nil)
        #expect(Array(bytes[delimiter.upperBound...]) == Array("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n".utf8))
        let read = try HTTPResponse(streamedAnswer: bytes)
        #expect(read.status == 200 && read.cookies == ["session=abc"] && read.headers["x-export"] == "yes,again")
    }

    @Test func aRESTEventGetsMultiValueHeadersInThePrelude() async throws {
        let handler = Self.handler(streaming: ["GET /users/{id}"])
        let answer = try await handler.respond(to: try Fixtures.event("rest-v1-cognito"), context: Fixtures.context)
        let (_, bytes) = try await Self.gather(answer)
        let read = try HTTPResponse(streamedAnswer: bytes)
        #expect(read.headers.values("x-export") == ["yes", "again"])
        #expect(read.headers.values("set-cookie") == ["session=abc"])
    }

    @Test func anyOtherRouteGathersTheStreamIntoOneAnswer() async throws {
        let handler = Self.handler(streaming: [])
        let answer = try await handler.respond(to: try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        guard case .buffered(let bytes) = answer else {
            Issue.record("expected a buffered answer, got a stream")
            return
        }
        let document = try JSONValue.parse(bytes)
        #expect(document["statusCode"] == .number("200"))
        // NDJSON is text: a JSON string, no base64.
        #expect(document["isBase64Encoded"] == false)
        #expect(document["body"] == .string("{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n"))
        #expect(try await handler.handle(try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context) == bytes)
    }

    @Test func aStreamTooLargeToGatherIsAProblemNotACrash() async throws {
        let line = "{\"n\":0}\n".utf8.count
        let handler = Self.handler(streaming: [], lines: HTTPResponse.maxBufferedBytes / line + 1)
        let bytes = try await handler.handle(try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        let document = try JSONValue.parse(bytes)
        #expect(document["statusCode"] == .number("500"))
        let problem = try JSONValue.parse(Array((document["body"]?.stringValue ?? "").utf8))
        #expect(problem["detail"]?.stringValue?.contains("larger than a buffered response carries") == true)
    }

    @Test func aStreamThatFailsWhileGatheredIsA500Problem() async throws {
        let handler = Self.handler(streaming: [], failAfter: 1)
        let bytes = try await handler.handle(try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        let document = try JSONValue.parse(bytes)
        #expect(document["statusCode"] == .number("500"))
        #expect(document["headers"]?["content-type"] == "application/problem+json")
    }

    @Test func aStreamThatFailsBeforeItsFirstByteIsStreamedAsA500Problem() async throws {
        let handler = Self.handler(streaming: ["PUT /users/{id}"], failAfter: 0)
        let answer = try await handler.respond(to: try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        let (_, bytes) = try await Self.gather(answer)
        // The head waited for the body, so the client gets the problem, not a 200 with nothing.
        let read = try HTTPResponse(streamedAnswer: bytes)
        #expect(read.status == 500)
        #expect(read.headers["content-type"] == "application/problem+json")
        #expect(read.headers["x-export"] == nil)
        let problem = try JSONValue.parse(read.body)
        #expect(problem["detail"]?.stringValue?.contains(Fixtures.context.requestID) == true)
    }

    @Test func aStreamThatFailsAfterItsFirstByteEndsWithAnErrorNamingOnlyTheRequest() async throws {
        let handler = Self.handler(streaming: ["PUT /users/{id}"], failAfter: 1)
        let answer = try await handler.respond(to: try Fixtures.event("httpapi-v2-jwt"), context: Fixtures.context)
        let gathered = Gathered()
        guard case .streamed(_, let body) = answer else {
            Issue.record("expected a stream")
            return
        }
        // The runtime puts this error's description in the stream's trailers: no internals.
        let error = await #expect(throws: (any Error).self) {
            try await body(LambdaResponseWriter { gathered.append($0) })
        }
        let description = String(describing: try #require(error))
        #expect(description.contains(Fixtures.context.requestID))
        #expect(!description.contains("Broken"))
        #expect(try HTTPResponse(streamedAnswer: gathered.bytes).status == 200)
        #expect(gathered.bytes.suffix(8) == Array("{\"n\":0}\n".utf8))
    }

    @Test func aStreamedAnswerWithoutItsPreludeIsRefused() throws {
        #expect(throws: StreamedAnswerError.self) { try HTTPResponse(streamedAnswer: Array("no prelude".utf8)) }
        let late =
            Array(#"{"statusCode":200,"headers":{}}"#.utf8) + [UInt8](repeating: 32, count: 16 * 1024)
            + [UInt8](repeating: 0, count: 8)
        #expect(throws: StreamedAnswerError.self) { try HTTPResponse(streamedAnswer: late) }
        #expect(throws: StreamedAnswerError.self) {
            try HTTPResponse(streamedAnswer: Array(#"{"headers":{}}"#.utf8) + [UInt8](repeating: 0, count: 8))
        }
    }
}
