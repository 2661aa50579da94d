import ContractTesting
import Foundation
import JSONCoding
import Testing

/// What a recorded expectation accepts and refuses, through the runner every replay uses: each
/// matcher kind, captures carried from case to case, and the response shapes expectations compare.
@Suite struct ContractMatchingTests {
    /// Replays one scenario (written as a corpus file is) whose cases get `answers` in order; the
    /// failure's differences, or [] when every case passed.
    func replay(_ scenario: String, answers: [String]) async throws -> [String] {
        let parsed = try ContractScenario(file: "test.json", bytes: Array(scenario.utf8))
        var remaining = answers[...]
        let failure = await ContractRunner.run(parsed) { _ in Array(remaining.removeFirst().utf8) }
        if let message = failure?.message { return [message] }
        return failure?.differences.map(\.description) ?? []
    }

    func one(expect: String, answer: String) async throws -> [String] {
        try await replay(
            #"{"scenario":"s","cases":[{"name":"c","event":{"rawPath":"/x"},"expect":\#(expect)}]}"#,
            answers: [answer])
    }

    func answer(body: String, headers: String = #"{"content-type":"application/json"}"#) -> String {
        let body = JSONValue.string(body).jsonString
        return #"{"statusCode":200,"headers":\#(headers),"body":\#(body)}"#
    }

    @Test(arguments: [
        ("any", #"{"v":[1,2]}"#, true),
        ("string", #"{"v":"x"}"#, true), ("string", #"{"v":1}"#, false),
        ("number", #"{"v":1.5}"#, true), ("number", #"{"v":"1"}"#, false),
        ("ulid", #"{"v":"01JDQ3ZK8M6W0F5Q4R7T9V2XYZ"}"#, true),
        ("ulid", #"{"v":"01JDQ3ZK8M6W0F5Q4R7T9V2XYI"}"#, false),  // I is not Crockford base32
        ("ulid", #"{"v":"01JDQ3ZK8M6W0F5Q4R7T9V2XY"}"#, false),  // 25 characters
        ("timestamp", #"{"v":"2026-11-23T05:30:33Z"}"#, true),
        ("timestamp", #"{"v":"2026-11-23T05:30:33.123Z"}"#, true),
        ("timestamp", #"{"v":"2026-11-23T05:30:33+01:00"}"#, false),
        ("timestamp", #"{"v":"2026-11-23 05:30:33Z"}"#, false),
        ("etag", #"{"v":"\"3\""}"#, true), ("etag", #"{"v":"W/\"3\""}"#, true), ("etag", #"{"v":"3"}"#, false),
        ("cursor", #"{"v":"eyJrIjoxfQ.c2ln"}"#, true), ("cursor", #"{"v":"a b"}"#, false),
        ("cursor", #"{"v":""}"#, false),
        ("no-such-kind", #"{"v":"x"}"#, false),
    ])
    func eachMatcherKind(kind: String, body: String, matches: Bool) async throws {
        let differences = try await one(
            expect: #"{"statusCode":200,"body":{"v":{"$match":"\#(kind)"}}}"#, answer: answer(body: body))
        #expect(differences.isEmpty == matches, "\(kind) on \(body): \(differences)")
        if !matches { #expect(differences.first?.hasPrefix("body.v: expected a \(kind), got ") == true) }
    }

    @Test func aMatcherNeedsTheFieldToBeThere() async throws {
        let differences = try await one(
            expect: #"{"statusCode":200,"body":{"v":{"$match":"any"}}}"#, answer: answer(body: "{}"))
        #expect(differences == ["body.v: missing (expected a any)"])
    }

    @Test func capturesCarryIntoLaterCasesAndAWrongValueFails() async throws {
        let scenario = #"""
            {"scenario":"s","cases":[
              {"name":"create","event":{"rawPath":"/items"},
               "expect":{"statusCode":201,"body":{"id":{"$match":"ulid","$capture":"id"}},
                         "headers":{"location":"/items/{{id}}"}}},
              {"name":"read","event":{"rawPath":"/items/{{id}}"},"expect":{"statusCode":200,"body":{"id":"{{id}}"}}}
            ]}
            """#
        let id = "01JDQ3ZK8M6W0F5Q4R7T9V2XYZ"
        let created =
            #"{"statusCode":201,"headers":{"Location":"/items/\#(id)","Content-Type":"application/json"},"body":"{\"id\":\"\#(id)\"}"}"#
        #expect(try await replay(scenario, answers: [created, answer(body: #"{"id":"\#(id)"}"#)]) == [])
        let other = "01JDQ3ZK8M6W0F5Q4R7T9V2XY0"
        #expect(
            try await replay(scenario, answers: [created, answer(body: #"{"id":"\#(other)"}"#)])
                == [#"body.id: expected "\#(id)", got "\#(other)""#])
        // The header compares against the captured value too, whatever case its name has.
        let moved = created.replacingOccurrences(of: "\"/items/\(id)\"", with: "\"/items/\(other)\"")
        #expect(
            try await replay(scenario, answers: [moved, answer(body: "{}")])
                == [#"headers.location: expected "/items/\#(id)", got "/items/\#(other)""#])
    }

    @Test func aCaptureUsedBeforeItIsMadeIsAnError() async throws {
        let scenario = #"""
            {"scenario":"s","cases":[{"name":"read","event":{"rawPath":"/items/{{id}}"},"expect":{"statusCode":200}}]}
            """#
        #expect(try await replay(scenario, answers: []) == ["{{id}} is used before a case captures it"])
    }

    @Test(arguments: [
        (#"{"list":[1,2],"a":1.0}"#, [String]()),
        (#"{"a":1,"list":[1,2],"b":true}"#, ["body.b: unexpected (got true)"]),
        (#"{"a":1,"list":[1]}"#, ["body.list[1]: missing (expected 2)"]),
        (#"{"a":1,"list":[2,1]}"#, ["body.list[0]: expected 1, got 2", "body.list[1]: expected 2, got 1"]),
        (#"{"a":1,"list":[1,2,3]}"#, ["body.list[2]: unexpected (got 3)"]),
    ])
    func extraMissingAndReorderedFieldsAreDifferences(body: String, differences: [String]) async throws {
        let found = try await one(
            expect: #"{"statusCode":200,"body":{"a":1,"list":[1,2]}}"#, answer: answer(body: body))
        #expect(found == differences)
    }

    @Test func aMissingElementIsNotANull() async throws {
        let found = try await one(expect: #"{"statusCode":200,"body":[1,null]}"#, answer: answer(body: "[1]"))
        #expect(found == ["body[1]: missing (expected null)"])
    }

    @Test func statusAndOnlyTheExpectedHeadersAreCompared() async throws {
        let expect = #"{"statusCode":401,"headers":{"WWW-Authenticate":"Bearer"}}"#
        let refusal = #"{"statusCode":401,"headers":{"www-authenticate":"Bearer","x-amzn-requestid":"r1"}}"#
        #expect(try await one(expect: expect, answer: refusal) == [])
        #expect(
            try await one(expect: expect, answer: refusal.replacingOccurrences(of: "401", with: "403"))
                == ["statusCode: expected 401, got 403"])
        #expect(
            try await one(expect: expect, answer: #"{"statusCode":401}"#)
                == [#"headers.www-authenticate: missing (expected "Bearer")"#])
    }

    @Test func aBodyNobodyExpectedIsADifference() async throws {
        #expect(
            try await one(expect: #"{"statusCode":204}"#, answer: #"{"statusCode":204,"body":"surprise"}"#)
                == [#"body: unexpected (got "surprise")"#])
    }

    @Test func responsesAreComparedInTheShapeAPIGatewayGivesThem() {
        // No statusCode: API Gateway infers a 200 with the document as the body.
        #expect(
            ContractResponse.normalize(Array(#"{"hello":"world"}"#.utf8)) == [
                "statusCode": 200, "body": ["hello": "world"],
            ])
        // Header names lower-cased, multi-value headers joined, a JSON body parsed, text left as text.
        let json = ContractResponse.normalize(
            Array(
                #"{"statusCode":200,"headers":{"Content-Type":"application/problem+json"},"multiValueHeaders":{"Vary":["a","b"]},"body":"{\"x\":1}"}"#
                    .utf8))
        #expect(
            json == [
                "statusCode": 200, "headers": ["content-type": "application/problem+json", "vary": "a,b"],
                "body": ["x": 1],
            ])
        let text = ContractResponse.normalize(
            Array(#"{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"{\"x\":1}"}"#.utf8))
        #expect(text["body"] == #"{"x":1}"#)
        // NDJSON: one value per line, so each line can hold matchers.
        let lines = ContractResponse.normalize(
            Array(
                #"{"statusCode":200,"headers":{"content-type":"application/x-ndjson"},"body":"{\"a\":1}\n{\"a\":2}\n"}"#
                    .utf8))
        #expect(lines["body"] == [["a": 1], ["a": 2]])
    }
}
