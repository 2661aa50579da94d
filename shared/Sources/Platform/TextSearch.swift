extension StringProtocol {
    /// Byte offset of the first occurrence of `needle` in UTF-8, or nil. The standard library's
    /// `contains(_:)`/`firstRange(of:)` for strings live in _StringProcessing, which links the
    /// regex engine (~1 MB) into every bootstrap; this plain search does not.
    public func utf8Offset(of needle: some StringProtocol) -> Int? {
        let haystack = Array(utf8)
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return 0 }
        guard haystack.count >= pattern.count else { return nil }
        for start in 0...(haystack.count - pattern.count) where haystack[start] == pattern[0] {
            if haystack[start..<start + pattern.count].elementsEqual(pattern) { return start }
        }
        return nil
    }

    public func containsText(_ needle: some StringProtocol) -> Bool { utf8Offset(of: needle) != nil }
}
