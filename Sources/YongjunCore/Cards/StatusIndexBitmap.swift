/// Which status-list entries are taken, one bit each, for an import on either store: random free entries are drawn
/// from `0..<capacity`, sized (as `StatusIndexAllocator.capacity`) for the register plus the whole file so the list
/// is never more than half full — a draw succeeds at least every other try. 256 KiB for a register of 10^6 cards,
/// where `StatusIndexAllocator`'s set of taken entries would hold tens of megabytes.
public struct StatusIndexBitmap: Sendable {
    private var bits: [UInt64]
    public let capacity: Int

    /// Room for `existing` cards plus `adding`, and at least past the `highest` entry already given (-1: none).
    public init(existing: Int, highest: Int, adding: Int) {
        var capacity = StatusIndexAllocator.capacity(cards: existing + adding)
        if highest >= capacity { capacity = StatusIndexAllocator.capacity(cards: highest + 1) }
        self.init(capacity: capacity)
    }

    public init(capacity: Int) {
        self.capacity = capacity
        bits = [UInt64](repeating: 0, count: (capacity + 63) / 64)
    }

    public func isTaken(_ index: Int) -> Bool { bits[index / 64] & (1 << (index % 64)) != 0 }

    public mutating func take(_ index: Int) {
        guard index >= 0, index < capacity else { return }
        bits[index / 64] |= 1 << (index % 64)
    }

    /// A random entry not yet taken (not marked: the caller takes it once it is written).
    public func draw(using generator: inout some RandomNumberGenerator) -> Int {
        while true {
            let index = Int.random(in: 0..<capacity, using: &generator)
            if !isTaken(index) { return index }
        }
    }
}
