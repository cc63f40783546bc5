/// Hands out status-list entries: random (an index says nothing about the card or the order of issue), unique, never
/// moved once given, drawn from a list at least twice as long as the register and never shorter than the W3C
/// herd-privacy minimum.
public struct StatusIndexAllocator {
    private var taken: Set<Int>
    /// Entries are drawn from `0..<capacity`.
    public private(set) var capacity: Int

    /// `taken`: entries already given; `cards`: how many cards the register will hold.
    public init(taken: some Sequence<Int>, cards: Int) {
        self.taken = Set(taken)
        capacity = Self.capacity(cards: max(cards, self.taken.count))
        if let highest = self.taken.max(), highest >= capacity { capacity = Self.capacity(cards: highest + 1) }
    }

    /// The smallest power of two at least twice `cards`, and at least `StatusList.minimumCount`.
    public static func capacity(cards: Int) -> Int {
        var size = StatusList.minimumCount
        while size < 2 * cards { size *= 2 }
        return size
    }

    /// A fresh random entry; the list grows (doubles) before it is half full.
    public mutating func next(using generator: inout some RandomNumberGenerator) -> Int {
        if 2 * (taken.count + 1) > capacity { capacity *= 2 }
        while true {
            let index = Int.random(in: 0..<capacity, using: &generator)
            if taken.insert(index).inserted { return index }
        }
    }
}
