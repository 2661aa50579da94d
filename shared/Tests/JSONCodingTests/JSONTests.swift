import JSONCoding
import Testing

@Suite struct JSONParsingTests {
    @Test(arguments: [
        #"{"a":[1,-2.5e10,true,false,null,"x"],"b":{}}"#, #"[]"#, #""\u00e9\ud83d\ude00""#,
        "123456789012345678901234567890",
        #"{"k":"line\nbreak \"quoted\" \\ back"}"#,
    ])
    func roundTrips(text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func numbersKeepTheirExactText() throws {
        let value = try JSONValue.parse(
            #"{"big":12345678901234567890123456789012345678,"precise":0.1000000000000000055511151231257827}"#)
        #expect(value["big"] == .number("12345678901234567890123456789012345678"))
        #expect(value.jsonString.contains("0.1000000000000000055511151231257827"))
    }

    @Test func escapesAndSurrogatePairsDecode() throws {
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00\t\/""#) == .string("é😀\t/"))
        // A lone surrogate becomes U+FFFD instead of failing the whole document.
        #expect(try JSONValue.parse(#""\ud83d""#) == .string("\u{FFFD}"))
    }

    @Test func controlCharactersAreEscapedOnOutput() {
        #expect(JSONValue.string("a\u{01}b\n").jsonString == #""a\u0001b\n""#)
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"unterminated", "{\"a\":1}x", "[\"\u{01}\"]", "\"\\q\"",
    ])
    func rejectsMalformedInput(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect { try JSONValue.parse(deep) } throws: { "\($0)".contains("nesting") }
    }

    @Test func errorsCarryTheOffset() {
        #expect { try JSONValue.parse(#"{"a": tru}"#) } throws: { ($0 as? JSONParseError)?.offset == 6 }
    }

    @Test func repeatedKeysResolveToTheLast() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"] == 2)
    }
}

@Suite struct CodableTests {
    struct Model: Codable, Equatable {
        enum Kind: String, Codable { case small, large }
        var id: String
        var count: Int
        var ratio: Double
        var big: UInt64
        var flags: [Bool]
        var nested: [String: [Int]]
        var optional: String?
        var kind: Kind
        var extra: JSONValue?
    }

    @Test func roundTripsThroughJSON() throws {
        let model = Model(
            id: "x", count: -3, ratio: 0.25, big: UInt64.max, flags: [true, false], nested: ["a": [1, 2]],
            optional: nil,
            kind: .large, extra: ["free": ["form", 1]])
        let bytes = try JSON.encode(model)
        #expect(try JSON.decode(Model.self, from: bytes) == model)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(
            text.hasPrefix(#"{"id":"x","count":-3,"ratio":0.25,"big":18446744073709551615"#),
            "declaration order, exact integers")
        #expect(!text.contains("optional"), "nil optionals are omitted")
    }

    @Test func wholeDoublesEncodeWithoutFraction() throws {
        #expect(String(decoding: try JSON.encode([1.0, 2.5, -0.0]), as: UTF8.self) == "[1,2.5,-0]")
        #expect(throws: EncodingError.self) { try JSON.encode([Double.nan]) }
    }

    @Test func decodingErrorsCarryThePath() {
        #expect {
            try JSON.decode(Model.self, from: Array(#"{"id":"x","count":"3"}"#.utf8))
        } throws: { error in
            guard case .typeMismatch(_, let context) = error as? DecodingError else { return false }
            return JSONPointer.make(context.codingPath) == "/count"
        }
    }

    @Test func strictDecodingListsEveryUnknownField() {
        struct Small: Decodable {
            var a: Int
            var inner: [Inner]
        }
        struct Inner: Decodable { var b: Int }
        #expect {
            try JSON.decodeStrict(Small.self, from: JSONValue.parse(#"{"a":1,"z":2,"inner":[{"b":1},{"b":2,"c":3}]}"#))
        } throws: { ($0 as? UnknownFieldsError)?.paths == ["/z", "/inner/1/c"] }
    }
}

@Suite struct Base64Tests {
    // RFC 4648 section 10 test vectors.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func allByteValuesRoundTrip() {
        let bytes = (0...255).map(UInt8.init)
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }

    @Test(arguments: ["Zm9v!", "Zg=a", "Z===", "Zm9v\n", "Zh==", "Zm9="])
    func rejectsInvalidText(text: String) { #expect(Base64.decode(text) == nil) }
}
