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

    private struct ZeroGenerator: RandomNumberGenerator {
        mutating func next() -> UInt64 { 0 }
    }
}
