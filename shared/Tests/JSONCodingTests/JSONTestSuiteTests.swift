import Foundation
import JSONCoding
import Testing

/// Nicolas Seriot's JSONTestSuite (nst/JSONTestSuite, commit 1ef36fa, MIT: JSONTestSuite/LICENSE)
/// against the parser every event, token and request body goes through: `y_` documents must be
/// accepted and `n_` documents refused (RFC 8259), never a crash; each `i_` document, where RFC
/// 8259 lets implementations differ, is decided below with the reason.
@Suite struct JSONTestSuiteTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("JSONTestSuite/test_parsing").path

    static func cases(_ prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func accepts(_ name: String) throws -> Bool {
        let bytes = try #require(FileManager.default.contents(atPath: "\(directory)/\(name)"))
        return (try? JSONValue.parse(Array(bytes))) != nil
    }

    /// The implementation-defined cases: true where the document is accepted.
    static let implementationDefined: [String: Bool] = [
        // Numbers keep their exact text (RFC 8259 §6 lets range be the reader's choice): whoever
        // reads one decides its range, as NumericDate and the DynamoDB number type do.
        "i_number_double_huge_neg_exp.json": true, "i_number_huge_exp.json": true,
        "i_number_neg_int_huge_exp.json": true, "i_number_pos_double_huge_exp.json": true,
        "i_number_real_neg_overflow.json": true, "i_number_real_pos_overflow.json": true,
        "i_number_real_underflow.json": true, "i_number_too_big_neg_int.json": true,
        "i_number_too_big_pos_int.json": true, "i_number_very_big_negative_int.json": true,
        // An escaped lone surrogate (RFC 8259 §8.2) reads as U+FFFD rather than failing the whole
        // document; a high surrogate followed by an escape that is not a low one is refused.
        "i_object_key_lone_2nd_surrogate.json": true, "i_string_1st_surrogate_but_2nd_missing.json": true,
        "i_string_incomplete_surrogate_and_escape_valid.json": true,
        "i_string_incomplete_surrogate_pair.json": true, "i_string_invalid_lonely_surrogate.json": true,
        "i_string_invalid_surrogate.json": true, "i_string_inverted_surrogates_U+1D11E.json": true,
        "i_string_lone_second_surrogate.json": true,
        "i_string_1st_valid_surrogate_2nd_invalid.json": false,
        "i_string_incomplete_surrogates_escape_valid.json": false,
        // Text that is not UTF-8 (RFC 8259 §8.1: JSON exchanged between systems MUST be) is refused,
        // never repaired: two different byte strings must not read as one string.
        "i_string_UTF-16LE_with_BOM.json": false, "i_string_UTF-8_invalid_sequence.json": false,
        "i_string_UTF8_surrogate_U+D800.json": false, "i_string_invalid_utf-8.json": false,
        "i_string_iso_latin_1.json": false, "i_string_lone_utf8_continuation_byte.json": false,
        "i_string_not_in_unicode_range.json": false, "i_string_overlong_sequence_2_bytes.json": false,
        "i_string_overlong_sequence_6_bytes.json": false, "i_string_overlong_sequence_6_bytes_null.json": false,
        "i_string_truncated-utf-8.json": false, "i_string_utf16BE_no_BOM.json": false,
        "i_string_utf16LE_no_BOM.json": false,
        // A byte order mark is not JSON (RFC 8259 §8.1: implementations MUST NOT add one).
        "i_structure_UTF-8_BOM_empty_object.json": false,
        // Nesting is bounded at 512 levels: 500 is within it (deeper is refused, never a crash).
        "i_structure_500_nested_arrays.json": true,
    ]

    @Test func theSuiteIsThere() {
        #expect(Self.cases("y_").count == 95 && Self.cases("n_").count == 188 && Self.cases("i_").count == 35)
    }

    @Test(arguments: cases("y_")) func acceptsWhatRFC8259Allows(name: String) throws {
        #expect(try Self.accepts(name))
    }

    @Test(arguments: cases("n_")) func refusesWhatRFC8259Forbids(name: String) throws {
        #expect(try !Self.accepts(name))
    }

    @Test(arguments: cases("i_")) func decidesWhatRFC8259LeavesOpen(name: String) throws {
        let accepted = try Self.accepts(name)
        let decided = Self.implementationDefined[name]
        #expect(decided != nil, "\(name) is not decided (the parser accepts it: \(accepted))")
        if let decided { #expect(accepted == decided) }
    }
}
