/// RFC 4648 base64 (standard alphabet), used for API Gateway binary bodies and DynamoDB `B` values.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        // Accept the URL-safe alphabet too: some clients send it.
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            out.append(b1.map { alphabet[Int(($0 & 0x0F) << 2 | (b2 ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            out.append(b2.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 4648 §5 base64url without padding (JWTs, cursors).
    public static func encodeURL(_ bytes: some Collection<UInt8>) -> String {
        String(
            encode(bytes).compactMap { c -> Character? in
                switch c {
                case "+": "-"
                case "/": "_"
                case "=": nil
                default: c
                }
            })
    }

    /// Decodes base64 text; padding is optional, whitespace, other characters and non-canonical
    /// final characters are rejected.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(text, table: decodeTable, padding: true)
    }

    /// Decodes RFC 4648 §5 base64url strictly, as JWS (RFC 7515 §2) and our cursors write it: the
    /// URL-safe alphabet only and no padding, so one value has exactly one spelling (a token or
    /// cursor cannot be respelled past a denylist or a cache).
    public static func decodeURL(_ text: some StringProtocol) -> [UInt8]? {
        decode(text, table: urlDecodeTable, padding: false)
    }

    static let urlDecodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() where c != UInt8(ascii: "+") && c != UInt8(ascii: "/") {
            table[Int(c)] = UInt8(i)
        }
        table[Int(UInt8(ascii: "-"))] = 62
        table[Int(UInt8(ascii: "_"))] = 63
        return table
    }()

    private static func decode(_ text: some StringProtocol, table: [UInt8], padding allowsPadding: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "="), allowsPadding {
                padding += 1
                continue
            }
            guard padding == 0 else { return nil }
            let v = table[Int(c)]
            guard v != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard padding <= 2, bits < 6 else { return nil }
        // Canonical encodings only: bits left over after the last byte must be zero, so no two
        // texts decode to the same bytes (signed cursors rely on it).
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
