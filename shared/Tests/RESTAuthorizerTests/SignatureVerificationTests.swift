import Crypto
import JWT
import Testing
import _CryptoExtras

/// The JWT module's own RS256 and ES256 verification against swift-crypto's signatures: what
/// swift-crypto signs verifies, and any change to the message, the signature or the key fails.
@Suite struct SignatureVerificationTests {
    static func rsaKey(_ key: _RSA.Signing.PublicKey) throws -> RSAPublicKey {
        let primitives = try key.getKeyPrimitives()
        return try #require(
            RSAPublicKey(modulus: Array(primitives.modulus), exponent: Array(primitives.publicExponent)))
    }

    static func p256Key(_ key: P256.Signing.PublicKey) throws -> P256PublicKey {
        let point = Array(key.rawRepresentation)
        return try #require(P256PublicKey(x: Array(point[..<32]), y: Array(point[32...])))
    }

    static func flipped(_ bytes: [UInt8], at index: Int) -> [UInt8] {
        var copy = bytes
        copy[index] ^= 0x01
        return copy
    }

    @Test(arguments: [2048, 3072, 4096])
    func rs256SignaturesVerifyAndTamperingFails(bits: Int) throws {
        let size: _RSA.Signing.KeySize = bits == 2048 ? .bits2048 : bits == 3072 ? .bits3072 : .bits4096
        let signing = try _RSA.Signing.PrivateKey(keySize: size)
        let key = try Self.rsaKey(signing.publicKey)
        #expect(key.bits == bits)
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 64, 1000] {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let signature = Array(try signing.signature(for: message, padding: .insecurePKCS1v1_5).rawRepresentation)
            #expect(key.isValidSignature(signature, for: message))
            #expect(!key.isValidSignature(Self.flipped(signature, at: signature.count - 1), for: message))
            #expect(!key.isValidSignature(Self.flipped(signature, at: 0), for: message))
            #expect(!key.isValidSignature(Array(signature.dropFirst()), for: message), "a short signature")
            #expect(!key.isValidSignature([0] + signature, for: message), "a long signature")
            #expect(!key.isValidSignature(signature, for: message + [0]))
            // PSS is another padding: its signature must not pass as PKCS #1 v1.5.
            let pss = Array(try signing.signature(for: message, padding: .PSS).rawRepresentation)
            #expect(!key.isValidSignature(pss, for: message))
        }
        let other = try Self.rsaKey(try _RSA.Signing.PrivateKey(keySize: size).publicKey)
        let signature = Array(try signing.signature(for: [1, 2, 3], padding: .insecurePKCS1v1_5).rawRepresentation)
        #expect(!other.isValidSignature(signature, for: [1, 2, 3]))
    }

    @Test func rsaRefusesSignaturesNotBelowTheModulusAndBadKeys() throws {
        let signing = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let primitives = try signing.publicKey.getKeyPrimitives()
        let key = try Self.rsaKey(signing.publicKey)
        let modulus = Array(primitives.modulus.drop { $0 == 0 })
        #expect(!key.isValidSignature(modulus, for: []), "s = n")
        #expect(!key.isValidSignature([UInt8](repeating: 0xff, count: modulus.count), for: []), "s > n")
        #expect(!key.isValidSignature([UInt8](repeating: 0, count: modulus.count), for: []), "s = 0")
        #expect(RSAPublicKey(modulus: modulus, exponent: [1]) == nil, "e = 1 makes every signature its own message")
        #expect(RSAPublicKey(modulus: modulus, exponent: [2]) == nil, "an even exponent")
        #expect(
            RSAPublicKey(modulus: modulus.dropLast() + [modulus.last! & 0xfe], exponent: [1, 0, 1]) == nil,
            "an even modulus")
    }

    @Test func es256SignaturesVerifyAndTamperingFails() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            let signing = P256.Signing.PrivateKey()
            let key = try Self.p256Key(signing.publicKey)
            let message = (0..<(round * 7)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let signature = Array(try signing.signature(for: message).rawRepresentation)
            #expect(key.isValidSignature(signature, for: message), "round \(round)")
            #expect(!key.isValidSignature(Self.flipped(signature, at: round % 64), for: message), "round \(round)")
            #expect(!key.isValidSignature(signature, for: message + [1]), "round \(round)")
            let der = Array(try signing.signature(for: message).derRepresentation)
            #expect(!key.isValidSignature(der, for: message), "DER is not the JWS form")
            let other = try Self.p256Key(P256.Signing.PrivateKey().publicKey)
            #expect(!other.isValidSignature(signature, for: message), "round \(round)")
        }
    }

    @Test func es256RefusesOutOfRangeScalarsAndPointsOffTheCurve() throws {
        let signing = P256.Signing.PrivateKey()
        let key = try Self.p256Key(signing.publicKey)
        let signature = Array(try signing.signature(for: [9]).rawRepresentation)
        let order: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
        ]
        let zero = [UInt8](repeating: 0, count: 32)
        #expect(!key.isValidSignature(zero + Array(signature[32...]), for: [9]), "r = 0")
        #expect(!key.isValidSignature(Array(signature[..<32]) + zero, for: [9]), "s = 0")
        #expect(!key.isValidSignature(order + Array(signature[32...]), for: [9]), "r = n")
        #expect(!key.isValidSignature(Array(signature[..<32]) + order, for: [9]), "s = n")
        let point = Array(signing.publicKey.rawRepresentation)
        var y = Array(point[32...])
        y[31] ^= 1
        #expect(P256PublicKey(x: Array(point[..<32]), y: y) == nil, "a point off the curve")
        #expect(P256PublicKey(x: zero, y: zero) == nil)
    }
}
