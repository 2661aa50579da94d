/// One page of a listing, as every service returns it: the items and an opaque cursor to the next.
public struct ListPage<Element: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Element]
    public var nextCursor: String?

    public init(items: [Element], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
