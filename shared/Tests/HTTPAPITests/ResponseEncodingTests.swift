import HTTPAPI
import JSONCoding
import Testing

@Suite struct ResponseEncodingTests {
    func decode(_ bytes: [UInt8]) throws -> JSONValue { try JSONValue.parse(bytes) }

    @Test func version2SeparatesCookiesAndJoinsRepeatedHeaders() throws {
        var response = try HTTPResponse.json(["ok": true], status: 201)
        response.headers.add("Vary", "accept")
        response.headers.add("vary", "origin")
        response.cookies = ["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"]
        let encoded = try decode(response.encoded(for: .httpAPI))
        #expect(encoded["statusCode"] == .number("201"))
        #expect(encoded["headers"]?["content-type"] == "application/json")
        #expect(encoded["headers"]?["vary"] == "accept,origin")
        // A cookie containing a comma stays whole: it travels in `cookies`, never in headers.
        #expect(encoded["cookies"] == ["a=1; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"])
        #expect(encoded["headers"]?["set-cookie"] == nil)
        #expect(encoded["body"] == #"{"ok":true}"#)
        #expect(encoded["isBase64Encoded"] == false)
    }

    @Test func version1UsesMultiValueHeaders() throws {
        var response = HTTPResponse.text("hi")
        response.headers.add("X-Multi", "a")
        response.headers.add("X-Multi", "b")
        response.cookies = ["s=1", "t=2"]
        let encoded = try decode(response.encoded(for: .restAPI))
        #expect(encoded["multiValueHeaders"]?["X-Multi"] == ["a", "b"])
        #expect(encoded["multiValueHeaders"]?["Set-Cookie"] == ["s=1", "t=2"])
        #expect(encoded["headers"]?["content-type"] == "text/plain; charset=utf-8")
        #expect(encoded["cookies"] == nil)
        #expect(encoded["body"] == "hi")
    }

    @Test(arguments: [EventSource.httpAPI, .restAPI, .functionURL])
    func binaryContentIsBase64(source: EventSource) throws {
        let bytes: [UInt8] = [0, 1, 2, 0xFF, 0xFE]
        let response = HTTPResponse(headers: ["content-type": "image/png"], body: bytes)
        let encoded = try decode(response.encoded(for: source))
        #expect(encoded["isBase64Encoded"] == true)
        #expect(encoded["body"]?.stringValue.flatMap { Base64.decode($0) } == bytes)
    }

    @Test(arguments: [
        ("application/json", true), ("application/problem+json", true), ("text/html; charset=utf-8", true),
        ("application/xml", true), ("image/svg+xml", true), ("application/octet-stream", false),
        ("image/png", false), ("application/pdf", false), ("application/zip", false),
    ])
    func textualContentTypes(type: String, textual: Bool) {
        #expect(HTTPResponse.isTextual(contentType: type) == textual)
    }

    @Test func problemDocumentFollowsRFC9457() throws {
        let problem = HTTPProblem.validation([.init(pointer: "/email", detail: "is not an email address")])
        let response = problem.response
        #expect(response.status == 400)
        #expect(response.headers["content-type"] == "application/problem+json")
        let body = try decode(response.body)
        #expect(body["type"] == "about:blank")
        #expect(body["title"] == "Validation Failed")
        #expect(body["status"] == 400)
        #expect(body["errors"] == [["pointer": "/email", "detail": "is not an email address"]])
    }
}
