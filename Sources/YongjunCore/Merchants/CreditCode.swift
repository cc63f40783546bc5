/// 统一社会信用代码 — an 18-character unified social credit code, validated per GB 32100-2015.
public struct CreditCode: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    /// The 31 characters the standard uses: digits and capitals without I, O, S, V, Z.
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case wrongLength(Int)
        case invalidCharacter(Character, position: Int)
        case badChecksum(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .wrongLength(let count): "must be 18 characters, found \(count)"
            case .invalidCharacter(let character, let position):
                "has \"\(character)\" at position \(position); only digits and capitals except I, O, S, V, Z are used"
            case .badChecksum(let expected, let found): "check character is \(found) but should be \(expected) (GB 32100 checksum)"
            }
        }
    }

    public init(_ text: String) throws(Problem) {
        let characters = Array(text.trimmingWhitespace().uppercased())
        guard characters.count == 18 else { throw .wrongLength(characters.count) }
        var values: [Int] = []
        for (index, character) in characters.enumerated() {
            guard let value = Self.alphabet.firstIndex(of: character) else { throw .invalidCharacter(character, position: index + 1) }
            values.append(value)
        }
        let expected = Self.checkCharacter(values.prefix(17))
        guard expected == characters[17] else { throw .badChecksum(expected: expected, found: characters[17]) }
        self.value = String(characters)
    }

    static func checkCharacter(_ values: ArraySlice<Int>) -> Character {
        let remainder = 31 - zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 } % 31
        return alphabet[remainder == 31 ? 0 : remainder]
    }

    /// The check character for 17 leading characters (to make demo and test data); nil if one is not allowed.
    public static func checkCharacter(for first17: String) -> Character? {
        let values = first17.uppercased().compactMap { alphabet.firstIndex(of: $0) }
        guard values.count == 17, first17.count == 17 else { return nil }
        return checkCharacter(values[...])
    }
}
