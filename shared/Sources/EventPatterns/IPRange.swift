/// An IPv4 or IPv6 address as a 128-bit number (IPv4 in its own space: an IPv4 range never holds
/// an IPv6 address), and a `cidr` block of them.
struct IPAddress: Sendable, Equatable {
    var high: UInt64
    var low: UInt64
    var isVersion6: Bool

    init?(_ text: String) {
        if text.contains(":") {
            guard let (high, low) = Self.version6(text) else { return nil }
            (self.high, self.low, isVersion6) = (high, low, true)
        } else {
            guard let value = Self.version4(text) else { return nil }
            (high, low, isVersion6) = (0, UInt64(value), false)
        }
    }

    static func version4(_ text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                let byte = UInt8(octet)
            else {
                return nil
            }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func version4(_ text: String) -> UInt32? { version4(text[...]) }

    /// The text around each `::` (Foundation-free, as the rest of the platform's core).
    static func halves(_ text: String) -> [Substring] {
        var halves: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if text[index] == ":", next < text.endIndex, text[next] == ":" {
                halves.append(text[start..<index])
                start = text.index(after: next)
                index = start
            } else {
                index = next
            }
        }
        halves.append(text[start...])
        return halves
    }

    /// Eight groups of up to four hex digits, one `::` standing for the groups left out, and an
    /// IPv4 address in place of the last two (RFC 4291 §2.2).
    static func version6(_ text: String) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gap: Int?
        let halves = Self.halves(text)
        guard halves.count <= 2 else { return nil }
        for (index, half) in halves.enumerated() {
            if index == 1 { gap = groups.count }
            guard !half.isEmpty else { continue }
            let pieces = half.split(separator: ":", omittingEmptySubsequences: false)
            for (position, piece) in pieces.enumerated() {
                if position == pieces.count - 1, piece.contains("."), index == halves.count - 1 {
                    guard let v4 = version4(piece) else { return nil }
                    groups += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                        let group = UInt16(piece, radix: 16)
                    else { return nil }
                    groups.append(group)
                }
            }
        }
        if let gap {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: Array(repeating: 0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }
}

struct IPRange: Sendable, Equatable {
    var base: IPAddress
    var prefixLength: Int

    /// `10.0.0.0/24`, `2001:db8::/32`, or one address.
    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let base = IPAddress(String(parts[0])) else { return nil }
        let width = base.isVersion6 ? 128 : 32
        let digits = parts.count == 2 && !parts[1].isEmpty && parts[1].allSatisfy { $0.isASCII && $0.isNumber }
        guard let length = parts.count == 2 ? (digits ? Int(parts[1]) : nil) : width, (0...width).contains(length)
        else { return nil }
        (self.base, prefixLength) = (base, length)
    }

    func contains(_ address: IPAddress) -> Bool {
        guard address.isVersion6 == base.isVersion6 else { return false }
        let length = base.isVersion6 ? prefixLength : prefixLength + 96  // IPv4 sits in the low 32 bits
        return Self.masked(address, length) == Self.masked(base, length)
    }

    static func masked(_ address: IPAddress, _ length: Int) -> (UInt64, UInt64) {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> UInt64(bits)) }
        return (address.high & mask(length), address.low & mask(length - 64))
    }
}
