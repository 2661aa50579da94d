/// A DynamoDB number: up to 38 significant digits, exponent -130...+125, held exactly as decimal
/// digits (never as a Double) so that values round-trip and arithmetic is exact.
public struct DynamoNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Significant digits without leading or trailing zeros; empty for zero.
    public let digits: [UInt8]
    /// Value = 0.d1d2d3... × 10^exponent.
    public let exponent: Int
    public let negative: Bool

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(_ text: String) throws(Invalid) {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        } else if bytes.first == UInt8(ascii: "+") {
            bytes = bytes.dropFirst()
        }
        var mantissa: [UInt8] = []
        var pointPosition: Int?
        var sawDigit = false
        var exponentPart = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let b = bytes[index]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                mantissa.append(b - UInt8(ascii: "0"))
                sawDigit = true
            } else if b == UInt8(ascii: "."), pointPosition == nil {
                pointPosition = mantissa.count
            } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                guard let e = Int(String(decoding: bytes[(index + 1)...], as: UTF8.self)) else {
                    throw Invalid(description: "'\(text)' is not a number")
                }
                exponentPart = e
                index = bytes.endIndex
                break
            } else {
                throw Invalid(description: "'\(text)' is not a number")
            }
            index += 1
        }
        guard sawDigit else { throw Invalid(description: "'\(text)' is not a number") }
        var integerDigits = pointPosition ?? mantissa.count
        while mantissa.first == 0 {
            mantissa.removeFirst()
            integerDigits -= 1
        }
        while mantissa.last == 0 { mantissa.removeLast() }
        if mantissa.isEmpty {
            self.init(digits: [], exponent: 0, negative: false)
            return
        }
        self.init(digits: mantissa, exponent: integerDigits + exponentPart, negative: negative)
        if let problem = storageProblem { throw Invalid(description: problem) }
    }

    /// Why DynamoDB would refuse to store this number (e.g. the result of arithmetic), or nil.
    public var storageProblem: String? {
        if digits.isEmpty { return nil }
        if digits.count > 38 { return "Attempting to store more than 38 significant digits in a Number" }
        if exponent - 1 > 125 {
            return "Number overflow. Attempting to store a number with magnitude larger than supported range"
        }
        if exponent - 1 < -130 {
            return "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        }
        return nil
    }

    init(digits: [UInt8], exponent: Int, negative: Bool) {
        self.digits = digits
        self.exponent = exponent
        self.negative = negative && !digits.isEmpty
    }

    public init(_ value: Int) { try! self.init(String(value)) }

    public var isZero: Bool { digits.isEmpty }

    /// Canonical decimal text, as DynamoDB returns numbers (no exponent notation).
    public var description: String {
        if digits.isEmpty { return "0" }
        var text = negative ? "-" : ""
        let chars = digits.map { Character(Unicode.Scalar($0 + UInt8(ascii: "0"))) }
        if exponent <= 0 {
            text += "0." + String(repeating: "0", count: -exponent) + String(chars)
        } else if exponent >= digits.count {
            text += String(chars) + String(repeating: "0", count: exponent - digits.count)
        } else {
            text += String(chars[..<exponent]) + "." + String(chars[exponent...])
        }
        return text
    }

    public static func < (a: DynamoNumber, b: DynamoNumber) -> Bool { compare(a, b) < 0 }

    static func compareMagnitude(_ a: DynamoNumber, _ b: DynamoNumber) -> Int {
        if a.digits.isEmpty || b.digits.isEmpty { return (a.digits.isEmpty ? 0 : 1) - (b.digits.isEmpty ? 0 : 1) }
        if a.exponent != b.exponent { return a.exponent < b.exponent ? -1 : 1 }
        for (x, y) in zip(a.digits, b.digits) where x != y { return x < y ? -1 : 1 }
        return a.digits.count == b.digits.count ? 0 : (a.digits.count < b.digits.count ? -1 : 1)
    }

    static func compare(_ a: DynamoNumber, _ b: DynamoNumber) -> Int {
        if a.negative != b.negative { return a.negative ? -1 : 1 }
        let magnitude = compareMagnitude(a, b)
        return a.negative ? -magnitude : magnitude
    }

    /// Digits aligned to a common least-significant position, for exact addition.
    static func aligned(_ n: DynamoNumber, lowest: Int, length: Int) -> [Int] {
        // Position of digit i (0-based) is exponent - 1 - i (power of ten).
        var result = [Int](repeating: 0, count: length)
        for (i, d) in n.digits.enumerated() {
            let power = n.exponent - 1 - i
            result[power - lowest] = Int(d)
        }
        return result
    }

    public static func + (a: DynamoNumber, b: DynamoNumber) -> DynamoNumber {
        if a.isZero { return b }
        if b.isZero { return a }
        let lowest = min(a.exponent - a.digits.count, b.exponent - b.digits.count)
        let highest = max(a.exponent, b.exponent) + 1
        let length = highest - lowest
        let x = aligned(a, lowest: lowest, length: length)
        let y = aligned(b, lowest: lowest, length: length)
        var sum = [Int](repeating: 0, count: length)
        var negative: Bool
        if a.negative == b.negative {
            var carry = 0
            for i in 0..<length {
                let s = x[i] + y[i] + carry
                sum[i] = s % 10
                carry = s / 10
            }
            negative = a.negative
        } else {
            let (big, small, bigNumber) = compareMagnitude(a, b) >= 0 ? (x, y, a) : (y, x, b)
            var borrow = 0
            for i in 0..<length {
                var d = big[i] - small[i] - borrow
                borrow = d < 0 ? 1 : 0
                if d < 0 { d += 10 }
                sum[i] = d
            }
            negative = bigNumber.negative
        }
        // sum is least-significant first; convert to most-significant digits.
        var digits = sum.reversed().map(UInt8.init)
        var exponent = highest
        while digits.first == 0 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.last == 0 { digits.removeLast() }
        if digits.isEmpty { negative = false }
        return DynamoNumber(digits: digits, exponent: digits.isEmpty ? 0 : exponent, negative: negative)
    }

    public static prefix func - (a: DynamoNumber) -> DynamoNumber {
        DynamoNumber(digits: a.digits, exponent: a.exponent, negative: !a.negative)
    }

    public static func - (a: DynamoNumber, b: DynamoNumber) -> DynamoNumber { a + (-b) }

    /// Bytes whose lexicographic order is numeric order: how the local engine indexes sort keys.
    public var orderedKey: [UInt8] {
        if digits.isEmpty { return [0x80] }
        let biased = UInt16(exponent + 1000)
        var body: [UInt8] = [UInt8(biased >> 8), UInt8(biased & 0xFF)] + digits.map { $0 + 0x30 }
        if negative {
            body = body.map { ~$0 }
            return [0x7F] + body + [0xFF]
        }
        return [0x81] + body
    }
}
