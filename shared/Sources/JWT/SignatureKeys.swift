import AWSCore

/// An RSA public key for RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2).
public struct RSAPublicKey: Sendable {
    let modulus: Montgomery
    let exponent: [UInt8]
    /// The modulus's length in bytes (k), which signatures must have.
    let length: Int
    public let bits: Int

    /// From the JWK's big-endian `n` and `e`; nil when they are not an RSA public key.
    public init?(modulus n: [UInt8], exponent e: [UInt8]) {
        let n = Array(n.drop { $0 == 0 })
        let e = Array(e.drop { $0 == 0 })
        guard let montgomery = Montgomery(modulus: n), let last = e.last, last & 1 == 1, e.count <= n.count,
            e != [1], Montgomery.compare(Montgomery.limbs(bigEndian: e), montgomery.modulus) < 0
        else { return nil }
        modulus = montgomery
        exponent = e
        length = n.count
        bits = n.count * 8 - n[0].leadingZeroBitCount
    }

    /// SHA-256's DigestInfo prefix (RFC 8017 §9.2, note 1).
    static let digestInfo: [UInt8] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ]

    /// Whether `signature` is this key's RS256 signature of `message`. The recovered encoding is
    /// compared with the one expected, byte for byte, never parsed (no room for lax padding).
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == length, length >= 11 + Self.digestInfo.count + 32,
            let s = modulus.reduced(Montgomery.limbs(bigEndian: signature))
        else { return false }
        let recovered = Montgomery.bigEndian(modulus.power(s, exponent: exponent), count: length)
        let padding = [UInt8](repeating: 0xff, count: length - 3 - Self.digestInfo.count - 32)
        let expected: [UInt8] = [0x00, 0x01] + padding + [0x00] + Self.digestInfo + SHA256.hash(message)
        return recovered == expected
    }
}

/// A P-256 public key for ES256: ECDSA with SHA-256 (FIPS 186-4 §6.4.2, SEC 1 §4.1.4).
public struct P256PublicKey: Sendable {
    let point: P256.Point

    /// From the JWK's 32-byte big-endian `x` and `y`; nil unless the point is on the curve.
    public init?(x: [UInt8], y: [UInt8]) {
        guard x.count == 32, y.count == 32, let point = P256.Point(x: x, y: y) else { return nil }
        self.point = point
    }

    /// Whether `signature` (r || s, 64 bytes, as JWS carries it: RFC 7518 §3.4) is this key's
    /// ES256 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        let order = P256.order
        guard let r = order.reduced(Montgomery.limbs(bigEndian: Array(signature[..<32]))),
            let s = order.reduced(Montgomery.limbs(bigEndian: Array(signature[32...]))),
            r != order.zero, s != order.zero
        else { return false }
        // e: the hash as an integer, below 2²⁵⁶ < 2n, so one subtraction reduces it.
        var e = Montgomery.limbs(bigEndian: SHA256.hash(message))
        e += [UInt32](repeating: 0, count: 8 - e.count)
        if Montgomery.compare(e, order.modulus) >= 0 { Montgomery.subtract(&e, order.modulus) }
        let w = order.enter(order.power(s, exponent: P256.orderMinusTwo))
        let u1 = order.multiply(e, w)  // e·w·R·R⁻¹: normal form
        let u2 = order.multiply(r, w)
        guard let x = P256.Point.combination(u1, P256.generator, u2, point).affineX() else { return false }
        var v = x
        if Montgomery.compare(v, order.modulus) >= 0 { Montgomery.subtract(&v, order.modulus) }
        return v == r
    }
}

/// NIST P-256 (SEC 2 §2.4.2): y² = x³ − 3x + b over the prime field p, group order n.
enum P256 {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8).filter { $0 != UInt8(ascii: " ") }
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    static let field = Montgomery(
        modulus: bytes("FFFFFFFF 00000001 00000000 00000000 00000000 FFFFFFFF FFFFFFFF FFFFFFFF"))!
    static let order = Montgomery(
        modulus: bytes("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC632551"))!
    static let fieldMinusTwo = bytes("FFFFFFFF 00000001 00000000 00000000 00000000 FFFFFFFF FFFFFFFF FFFFFFFD")
    static let orderMinusTwo = bytes("FFFFFFFF 00000000 FFFFFFFF FFFFFFFF BCE6FAAD A7179E84 F3B9CAC2 FC63254F")
    static let b = field.enter(
        Montgomery.limbs(bigEndian: bytes("5AC635D8 AA3A93E7 B3EBBD55 769886BC 651D06B0 CC53B0F6 3BCE3C3E 27D2604B")))
    static let generator = Point(
        x: bytes("6B17D1F2 E12C4247 F8BCE6E5 63A440F2 77037D81 2DEB33A0 F4A13945 D898C296"),
        y: bytes("4FE342E2 FE1A7F9B 8EE7EB4A 7C0F9E16 2BCE3357 6B315ECE CBB64068 37BF51F5"))!

    /// A point in Jacobian coordinates (x = X/Z², y = Y/Z³), in Montgomery form; Z = 0 is infinity.
    struct Point: Sendable {
        var x: [UInt32]
        var y: [UInt32]
        var z: [UInt32]

        static let infinity = Point(x: field.enter(field.one), y: field.enter(field.one), z: field.zero)
        var isInfinity: Bool { z == field.zero }

        init(x: [UInt32], y: [UInt32], z: [UInt32]) {
            self.x = x
            self.y = y
            self.z = z
        }

        /// An affine point, checked to be on the curve.
        init?(x: [UInt8], y: [UInt8]) {
            let f = P256.field
            guard let x = f.reduced(Montgomery.limbs(bigEndian: x)), let y = f.reduced(Montgomery.limbs(bigEndian: y))
            else { return nil }
            let mx = f.enter(x)
            let my = f.enter(y)
            let three = f.enter([3, 0, 0, 0, 0, 0, 0, 0])
            let right = f.add(f.subtract(f.multiply(f.multiply(mx, mx), mx), f.multiply(three, mx)), P256.b)
            guard f.multiply(my, my) == right else { return nil }
            self.init(x: mx, y: my, z: f.enter(f.one))
        }

        /// 2P for a = −3 ("dbl-2001-b", Bernstein–Lange Explicit-Formulas Database).
        func doubled() -> Point {
            if isInfinity { return self }
            let f = P256.field
            let delta = f.multiply(z, z)
            let gamma = f.multiply(y, y)
            let beta = f.multiply(x, gamma)
            let t = f.multiply(f.subtract(x, delta), f.add(x, delta))
            let alpha = f.add(f.add(t, t), t)
            let beta4 = f.add(f.add(beta, beta), f.add(beta, beta))
            let x3 = f.subtract(f.multiply(alpha, alpha), f.add(beta4, beta4))
            let yz = f.add(y, z)
            let z3 = f.subtract(f.subtract(f.multiply(yz, yz), gamma), delta)
            let gamma2 = f.multiply(gamma, gamma)
            let gamma8 = f.add(
                f.add(f.add(gamma2, gamma2), f.add(gamma2, gamma2)), f.add(f.add(gamma2, gamma2), f.add(gamma2, gamma2))
            )
            let y3 = f.subtract(f.multiply(alpha, f.subtract(beta4, x3)), gamma8)
            return Point(x: x3, y: y3, z: z3)
        }

        /// P + Q ("add-2007-bl"), with the cases the formula does not cover.
        func adding(_ q: Point) -> Point {
            if isInfinity { return q }
            if q.isInfinity { return self }
            let f = P256.field
            let z1z1 = f.multiply(z, z)
            let z2z2 = f.multiply(q.z, q.z)
            let u1 = f.multiply(x, z2z2)
            let u2 = f.multiply(q.x, z1z1)
            let s1 = f.multiply(f.multiply(y, q.z), z2z2)
            let s2 = f.multiply(f.multiply(q.y, z), z1z1)
            let h = f.subtract(u2, u1)
            let rHalf = f.subtract(s2, s1)
            if h == f.zero { return rHalf == f.zero ? doubled() : .infinity }
            let h2 = f.add(h, h)
            let i = f.multiply(h2, h2)
            let j = f.multiply(h, i)
            let r = f.add(rHalf, rHalf)
            let v = f.multiply(u1, i)
            let x3 = f.subtract(f.subtract(f.multiply(r, r), j), f.add(v, v))
            let s1j = f.multiply(s1, j)
            let y3 = f.subtract(f.multiply(r, f.subtract(v, x3)), f.add(s1j, s1j))
            let zz = f.add(z, q.z)
            let z3 = f.multiply(f.subtract(f.subtract(f.multiply(zz, zz), z1z1), z2z2), h)
            return Point(x: x3, y: y3, z: z3)
        }

        /// a·P + b·Q (Shamir's trick), scalars in normal form.
        static func combination(_ a: [UInt32], _ p: Point, _ b: [UInt32], _ q: Point) -> Point {
            let both = p.adding(q)
            var result = Point.infinity
            for bit in stride(from: 255, through: 0, by: -1) {
                result = result.doubled()
                let inA = (a[bit / 32] >> UInt32(bit % 32)) & 1 == 1
                let inB = (b[bit / 32] >> UInt32(bit % 32)) & 1 == 1
                if inA && inB {
                    result = result.adding(both)
                } else if inA {
                    result = result.adding(p)
                } else if inB {
                    result = result.adding(q)
                }
            }
            return result
        }

        /// The affine x in normal form; nil at infinity.
        func affineX() -> [UInt32]? {
            if isInfinity { return nil }
            let f = P256.field
            let zInverse = f.enter(f.power(f.leave(z), exponent: P256.fieldMinusTwo))
            return f.leave(f.multiply(x, f.multiply(zInverse, zInverse)))
        }
    }
}
