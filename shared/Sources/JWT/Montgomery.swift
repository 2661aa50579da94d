/// Arithmetic modulo an odd number in Montgomery form, on little-endian 32-bit limbs: what RSA and
/// ECDSA signature *verification* need (public inputs only, so no constant-time requirement).
/// Written here instead of linking swift-crypto, which brings Foundation and a second BoringSSL
/// into a Lambda package (about 3.5 MB zipped).
struct Montgomery: Sendable {
    /// The modulus, `count` limbs, least significant first.
    let modulus: [UInt32]
    let count: Int
    /// -modulus⁻¹ mod 2³².
    let inverse: UInt32
    /// R² mod modulus, R = 2^(32·count): multiplying by it enters Montgomery form.
    let rSquared: [UInt32]

    /// nil unless the modulus is odd and greater than one.
    init?(modulus bytes: [UInt8]) {
        let limbs = Self.limbs(bigEndian: bytes)
        guard let lowest = limbs.first, lowest & 1 == 1, limbs.count > 1 || lowest > 1 else { return nil }
        modulus = limbs
        count = limbs.count
        var x = lowest  // Newton's iteration: each step doubles the correct low bits.
        for _ in 0..<5 { x = x &* (2 &- lowest &* x) }
        inverse = 0 &- x
        // R² mod n by doubling 1, 2·32·count times, reducing as it goes.
        var r = [UInt32](repeating: 0, count: count)
        r[0] = 1
        for _ in 0..<(64 * count) {
            var carry: UInt32 = 0
            for i in 0..<count {
                let shifted = (r[i] << 1) | carry
                carry = r[i] >> 31
                r[i] = shifted
            }
            if carry != 0 || Self.compare(r, limbs) >= 0 { Self.subtract(&r, limbs) }
        }
        rSquared = r
    }

    // MARK: Limbs

    /// Big-endian bytes as limbs, leading zero limbs dropped (at least one limb).
    static func limbs(bigEndian bytes: [UInt8]) -> [UInt32] {
        var limbs: [UInt32] = []
        var index = bytes.count
        while index > 0 {
            var limb: UInt32 = 0
            for offset in stride(from: max(0, index - 4), to: index, by: 1) { limb = limb << 8 | UInt32(bytes[offset]) }
            limbs.append(limb)
            index -= 4
        }
        while limbs.count > 1, limbs.last == 0 { limbs.removeLast() }
        return limbs.isEmpty ? [0] : limbs
    }

    /// `value` as exactly `count` big-endian bytes (the value must fit).
    static func bigEndian(_ value: [UInt32], count: Int) -> [UInt8] {
        (0..<count).map { position in
            let bit = (count - 1 - position) * 8
            let limb = bit / 32
            return limb < value.count ? UInt8(truncatingIfNeeded: value[limb] >> UInt32(bit % 32)) : 0
        }
    }

    /// -1, 0 or 1 as a < b, a == b, a > b (missing high limbs are zero).
    static func compare(_ a: [UInt32], _ b: [UInt32]) -> Int {
        for i in stride(from: max(a.count, b.count) - 1, through: 0, by: -1) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// a -= b, modulo 2^(32·a.count).
    static func subtract(_ a: inout [UInt32], _ b: [UInt32]) {
        var borrow: UInt64 = 0
        for i in 0..<a.count {
            let d = UInt64(a[i]) &- (i < b.count ? UInt64(b[i]) : 0) &- borrow
            a[i] = UInt32(truncatingIfNeeded: d)
            borrow = (d >> 63) & 1
        }
    }

    /// `value` padded or checked to `count` limbs; nil when it is not below the modulus.
    func reduced(_ value: [UInt32]) -> [UInt32]? {
        guard Self.compare(value, modulus) < 0 else { return nil }
        return Array(value.prefix(count)) + [UInt32](repeating: 0, count: max(0, count - value.count))
    }

    var one: [UInt32] { [1] + [UInt32](repeating: 0, count: count - 1) }
    var zero: [UInt32] { [UInt32](repeating: 0, count: count) }

    // MARK: Modular operations (operands below the modulus, `count` limbs)

    /// a·b·R⁻¹ mod n (CIOS).
    func multiply(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var t = [UInt32](repeating: 0, count: count + 2)
        for i in 0..<count {
            var carry: UInt64 = 0
            let bi = UInt64(b[i])
            for j in 0..<count {
                let s = UInt64(t[j]) + UInt64(a[j]) * bi + carry
                t[j] = UInt32(truncatingIfNeeded: s)
                carry = s >> 32
            }
            var s = UInt64(t[count]) + carry
            t[count] = UInt32(truncatingIfNeeded: s)
            t[count + 1] = UInt32(s >> 32)
            let m = UInt64(t[0] &* inverse)
            s = UInt64(t[0]) + m * UInt64(modulus[0])
            carry = s >> 32
            for j in 1..<count {
                s = UInt64(t[j]) + m * UInt64(modulus[j]) + carry
                t[j - 1] = UInt32(truncatingIfNeeded: s)
                carry = s >> 32
            }
            s = UInt64(t[count]) + carry
            t[count - 1] = UInt32(truncatingIfNeeded: s)
            t[count] = t[count + 1] + UInt32(s >> 32)
            t[count + 1] = 0
        }
        var result = Array(t[0..<count])
        if t[count] != 0 || Self.compare(result, modulus) >= 0 { Self.subtract(&result, modulus) }
        return result
    }

    func enter(_ a: [UInt32]) -> [UInt32] { multiply(a, rSquared) }
    func leave(_ a: [UInt32]) -> [UInt32] { multiply(a, one) }

    func add(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var sum = [UInt32](repeating: 0, count: count)
        var carry: UInt64 = 0
        for i in 0..<count {
            let s = UInt64(a[i]) + UInt64(b[i]) + carry
            sum[i] = UInt32(truncatingIfNeeded: s)
            carry = s >> 32
        }
        if carry != 0 || Self.compare(sum, modulus) >= 0 { Self.subtract(&sum, modulus) }
        return sum
    }

    func subtract(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var difference = a
        if Self.compare(a, b) < 0 {
            difference = add(a, Self.complement(b, modulus))
        } else {
            Self.subtract(&difference, b)
        }
        return difference
    }

    /// n - b (b below n).
    static func complement(_ b: [UInt32], _ n: [UInt32]) -> [UInt32] {
        var result = n
        subtract(&result, b)
        return result
    }

    /// base^exponent mod n, both in normal form (exponent as big-endian bytes).
    func power(_ base: [UInt32], exponent: [UInt8]) -> [UInt32] {
        let b = enter(base)
        var result = enter(one)
        for byte in exponent {
            for bit in stride(from: 7, through: 0, by: -1) {
                result = multiply(result, result)
                if (byte >> UInt8(bit)) & 1 == 1 { result = multiply(result, b) }
            }
        }
        return leave(result)
    }
}
