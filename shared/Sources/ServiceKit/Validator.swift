import HTTPAPI

/// Control characters (Cc: NUL, TAB, DEL, C1) and the invisible ones that change how text reads
/// (Cf: bidirectional marks and overrides, zero-width characters, soft hyphen, word joiners, tags;
/// line and paragraph separators). Listed by range rather than through Unicode's property tables,
/// which would add half a megabyte to every bootstrap.
func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0xAD, 0x61C, 0x180E, 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x206F, 0xFEFF,
        0xFFF9...0xFFFB, 0x1D173...0x1D17A, 0xE0001, 0xE0020...0xE007F:
        true
    default: false
    }
}

/// Collects field errors, then throws them together as one 400 problem.
public struct Validator {
    public private(set) var errors: [HTTPProblem.FieldError] = []

    public init() {}

    public mutating func check(_ condition: Bool, _ pointer: String, _ detail: String) {
        if !condition { errors.append(.init(pointer: pointer, detail: detail)) }
    }

    public func finish() throws(HTTPProblem) {
        if !errors.isEmpty { throw .validation(errors) }
    }

    /// A pragmatic email check: one @, a non-empty local part, a dotted domain, ≤ 254 bytes, and no
    /// spaces, control characters (NUL, TAB...) or invisible formatting ones (bidirectional
    /// overrides, zero-width joiners), which would make two addresses look alike.
    public static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, text.utf8.count <= 254,
            !text.unicodeScalars.contains(where: { $0 == " " || isInvisible($0) })
        else {
            return false
        }
        let domainLabels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return domainLabels.count >= 2 && domainLabels.allSatisfy { !$0.isEmpty }
    }
}
