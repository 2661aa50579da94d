import HTTPAPI
import JSONCoding
import Testing

@Suite struct RequestDecodingTests {
    struct NewUser: Decodable, Equatable {
        struct Address: Decodable, Equatable {
            var city: String
        }
        var name: String
        var age: Int
        var address: Address?
        var tags: [String]?
    }

    func problem(_ body: String?, contentType: String? = "application/json") -> HTTPProblem? {
        do {
            _ = try HTTPRequest.make("POST", "/users", body: body, contentType: contentType).decode(NewUser.self)
            return nil
        } catch { return error }
    }

    @Test func decodesAValidBody() throws {
        let user = try HTTPRequest.make("POST", "/u", body: #"{"name":"Ada","age":36,"address":{"city":"London"}}"#)
            .decode(NewUser.self)
        #expect(user == NewUser(name: "Ada", age: 36, address: .init(city: "London"), tags: nil))
    }

    @Test func malformedJSONIs400() {
        let p = problem(#"{"name": "Ada", "#)
        #expect(p?.status == 400)
        #expect(p?.detail?.contains("not valid JSON") == true)
    }

    @Test func wrongTypeNamesTheField() {
        let p = problem(#"{"name":"Ada","age":"old"}"#)
        #expect(p?.status == 400)
        #expect(p?.errors == [.init(pointer: "/age", detail: "expected integer, found string")])
    }

    @Test func nestedAndArrayFieldsAreNamedByPointer() {
        #expect(problem(#"{"name":"A","age":1,"address":{"city":7}}"#)?.errors.first?.pointer == "/address/city")
        #expect(problem(#"{"name":"A","age":1,"tags":["x",2]}"#)?.errors.first?.pointer == "/tags/1")
    }

    @Test func missingFieldIsNamed() {
        #expect(problem(#"{"name":"Ada"}"#)?.errors == [.init(pointer: "/age", detail: "is required")])
    }

    @Test func unknownFieldsAreRejected() {
        let p = problem(#"{"name":"Ada","age":3,"admin":true,"address":{"city":"x","zip":"1"}}"#)
        #expect(p?.status == 400)
        #expect(Set(p?.errors.map(\.pointer) ?? []) == ["/admin", "/address/zip"])
    }

    @Test func contentTypeMustBeJSON() {
        #expect(problem(#"{"name":"Ada","age":3}"#, contentType: "text/plain")?.status == 415)
        #expect(problem(#"{"name":"Ada","age":3}"#, contentType: nil)?.status == 415)
        #expect(problem(#"{"name":"Ada","age":3}"#, contentType: "application/merge-patch+json") == nil)
        #expect(problem(nil)?.status == 415)
        #expect(problem("")?.status == 400)
    }

    @Test func fractionalOrOverflowingIntegersAreRejected() {
        #expect(problem(#"{"name":"A","age":1.5}"#)?.errors.first?.pointer == "/age")
        #expect(problem(#"{"name":"A","age":99999999999999999999999}"#)?.errors.first?.pointer == "/age")
        #expect(problem(#"{"name":"A","age":2.0}"#) == nil)
    }
}
