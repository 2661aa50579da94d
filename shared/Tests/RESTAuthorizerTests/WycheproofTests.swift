import Foundation
import JSONCoding
import JWT
import Testing

/// Project Wycheproof's vectors (C2SP/wycheproof `testvectors_v1`, commit dac1dd4, Apache-2.0:
/// Wycheproof/LICENSE) against the JWT module's own RSA and P-256 arithmetic, the signatures every
/// token's trust rests on: each `valid` signature verifies and each `invalid` one (malleated
/// encodings, out-of-range values, wrong padding, edge-case keys) does not. `acceptable` cases are
/// refused: the one kind present, a DigestInfo without its NULL (RFC 8017 §9.2, note 1), has a
/// second spelling that one exact expected encoding does not allow.
@Suite struct WycheproofTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Wycheproof").path

    struct Case: Sendable, CustomStringConvertible {
        let file: String
        let id: Int
        let comment: String
        let key: [String: String]
        let message: [UInt8]
        let signature: [UInt8]
        let valid: Bool
        var description: String { "\(file) #\(id) \(comment)" }
    }

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    static func cases(_ file: String) throws -> [Case] {
        let bytes = try #require(FileManager.default.contents(atPath: "\(directory)/\(file)"))
        let document = try JSONValue.parse(Array(bytes))
        var cases: [Case] = []
        for group in document["testGroups"]?.arrayValue ?? [] {
            var key: [String: String] = [:]
            for (name, value) in group["publicKey"]?.objectValue ?? [:] { key[name] = value.stringValue }
            for test in group["tests"]?.arrayValue ?? [] {
                cases.append(
                    Case(
                        file: file, id: Self.number(test["tcId"]),
                        comment: test["comment"]?.stringValue ?? "", key: key,
                        message: hex(test["msg"]?.stringValue ?? ""), signature: hex(test["sig"]?.stringValue ?? ""),
                        valid: test["result"]?.stringValue == "valid"))
            }
        }
        return cases
    }

    static func number(_ value: JSONValue?) -> Int {
        if case .number(let text)? = value { return Int(text) ?? 0 }
        return 0
    }

    /// A big-endian coordinate as the JWK carries it: 32 bytes, without DER's sign byte.
    static func coordinate(_ text: String) -> [UInt8] {
        let bytes = Array(hex(text).drop { $0 == 0 })
        return [UInt8](repeating: 0, count: max(0, 32 - bytes.count)) + bytes
    }

    @Test(arguments: [
        "rsa_signature_2048_sha256_test.json", "rsa_signature_3072_sha256_test.json",
        "rsa_signature_4096_sha256_test.json",
    ])
    func rsaPKCS1v15SHA256(file: String) throws {
        let cases = try Self.cases(file)
        #expect(cases.count > 250 && cases.contains(where: \.valid))
        for test in cases {
            let key = try #require(
                RSAPublicKey(
                    modulus: Self.hex(test.key["modulus"] ?? ""), exponent: Self.hex(test.key["publicExponent"] ?? "")),
                "\(test)")
            #expect(key.isValidSignature(test.signature, for: test.message) == test.valid, "\(test)")
        }
    }

    @Test func ecdsaP256SHA256InP1363Form() throws {
        let cases = try Self.cases("ecdsa_secp256r1_sha256_p1363_test.json")
        #expect(cases.count == 262)
        for test in cases {
            let key = try #require(
                P256PublicKey(x: Self.coordinate(test.key["wx"] ?? ""), y: Self.coordinate(test.key["wy"] ?? "")),
                "\(test)")
            #expect(key.isValidSignature(test.signature, for: test.message) == test.valid, "\(test)")
        }
    }
}
