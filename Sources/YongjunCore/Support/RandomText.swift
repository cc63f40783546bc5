/// Random identifiers drawn from a caller-supplied generator (so tests can make them repeatable).
public enum RandomText {
    private static let base32Alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")

    /// Lower-case letters and digits without the look-alikes l, o, 0, 1: easy to read aloud or type.
    public static func base32(count: Int, using generator: inout some RandomNumberGenerator) -> String {
        String((0..<count).map { _ in base32Alphabet[Int(generator.next() % UInt64(base32Alphabet.count))] })
    }

    public static func bytes(count: Int, using generator: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// A ULID-style id: 48-bit millisecond time then 80 random bits, Crockford base32, so ids sort by time.
    public static func timeOrderedID(millis: UInt64, using generator: inout some RandomNumberGenerator) -> String {
        let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        var output = [UInt8](repeating: 0, count: 26)
        var time = millis
        for index in stride(from: 9, through: 0, by: -1) {
            output[index] = crockford[Int(time & 31)]
            time >>= 5
        }
        var random = generator.next()
        var more = generator.next()
        for index in 10..<26 {
            output[index] = crockford[Int(random & 31)]
            random = random >> 5 | (more & 31) << 59
            more >>= 5
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The smallest id `timeOrderedID` can produce at `millis`: lets a query select records by time through the id.
    public static func timeOrderedIDLowerBound(millis: UInt64) -> String {
        var generator = ZeroGenerator()
        return String(timeOrderedID(millis: millis, using: &generator))
    }

    /// The base-32 characters in byte order, so that text compares as the number it spells.
    static let orderedBase32 = Array(String(base32Alphabet.sorted()).utf8)

    private struct ZeroGenerator: RandomNumberGenerator {
        mutating func next() -> UInt64 { 0 }
    }
}

/// Card ids for an import of up to `count` new cards: each one `RandomText.base32(count: 16)` in form (the same 32
/// characters, 80 random bits), but each larger than the one before. The 2^80 ids are cut into `count` equal
/// stretches and the n-th id is drawn at random from the n-th, so ids still carry about 80 - log2(count) random bits
/// (60 for a million cards) and never repeat within an import.
///
/// Why: an index on random text is written all over at once. A province's first import of 10^6 cards spent most of
/// its time there — on PostgreSQL the id key alone took the COPY of a million rows from 5 s to 15 s — while ids that
/// grow with the file append to the index's last page. What this gives away: within one import, a larger id was a
/// later row of the bureau's file.
public struct AscendingCardIDs: Sendable {
    private let stretch: UInt64
    private let count: Int
    private var issued = 0

    public init(count: Int) {
        self.count = max(count, 1)
        stretch = UInt64.max / UInt64(self.count)
    }

    /// The next id; after `count` of them, plain random ones.
    public mutating func next(using generator: inout some RandomNumberGenerator) -> String {
        guard issued < count else { return RandomText.base32(count: 16, using: &generator) }
        let high = UInt64(issued) * stretch + UInt64.random(in: 0..<stretch, using: &generator)
        issued += 1
        // 16 characters of 5 bits: the top 64 bits from `high`, the low 16 at random.
        let low = generator.next() & 0xFFFF
        var output = [UInt8](repeating: 0, count: 16)
        var value = (high, low)
        for index in stride(from: 15, through: 0, by: -1) {
            output[index] = RandomText.orderedBase32[Int(value.1 & 31)]
            value.1 = value.1 >> 5 | (value.0 & 31) << 11
            value.0 >>= 5
        }
        return String(decoding: output, as: UTF8.self)
    }
}
