/// 居民身份证号 — an 18-character resident identity number, validated per GB 11643-1999.
///
/// Only ever held in memory long enough to be hashed; it is never stored or logged in plain text.
public struct ChineseIDNumber: Sendable, Hashable {
    /// The normalised number: 17 digits and an upper-case check character.
    public let value: String

    /// Why a string is not a valid identity number.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case wrongLength(Int)
        case invalidCharacters
        case badBirthDate
        case badChecksum(expected: Character, found: Character)

        public var description: String {
            switch self {
            case .wrongLength(let count): "must be 18 characters, found \(count)"
            case .invalidCharacters: "must be 17 digits followed by a digit or X"
            case .badBirthDate: "the birth date in positions 7-14 is not a real date"
            case .badChecksum(let expected, let found): "check character is \(found) but should be \(expected) (GB 11643 checksum)"
            }
        }
    }

    private static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    private static let checkCharacters: [Character] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]

    /// Validates length, characters, birth date and the check character.
    public init(_ text: String) throws(Problem) {
        if let plain = Self.plainASCII(text) {
            value = plain
        } else {
            value = try Self.checked(text)
        }
    }

    /// The general path: any text, trimmed and upper-cased; names the problem.
    static func checked(_ text: String) throws(Problem) -> String {
        let characters = Array(text.trimmingWhitespace().uppercased())
        guard characters.count == 18 else { throw .wrongLength(characters.count) }
        let digits = characters.prefix(17).compactMap(\.wholeNumberValue)
        guard digits.count == 17, characters[17].isASCII,
            characters[17] == "X" || characters[17].wholeNumberValue != nil
        else { throw .invalidCharacters }
        let birth = String(characters[6..<14])
        let birthText = "\(birth.prefix(4))-\(birth.dropFirst(4).prefix(2))-\(birth.suffix(2))"
        guard let birthDate = CalendarDate(iso: birthText), birthDate.year >= 1900 else { throw .badBirthDate }
        let sum = zip(digits, Self.weights).reduce(0) { $0 + $1.0 * $1.1 }
        let expected = Self.checkCharacters[sum % 11]
        guard expected == characters[17] else { throw .badChecksum(expected: expected, found: characters[17]) }
        return String(characters)
    }

    /// The number, when `text` is exactly 18 visible ASCII bytes that pass every check — the form nearly every row of a
    /// province's file has, read without building Characters. nil sends the text down the general path, which also
    /// names the problem; both paths accept the same numbers.
    static func plainASCII(_ text: String) -> String? {
        text.utf8.withContiguousStorageIfAvailable { bytes -> String? in
            guard bytes.count == 18 else { return nil }
            var sum = 0
            for index in 0..<17 {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                sum += digit * weights[index]
            }
            func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1]) - 48 } }
            guard let birth = CalendarDate(year: number(6..<10), month: number(10..<12), day: number(12..<14)), birth.year >= 1900 else {
                return nil
            }
            let last = bytes[17] == UInt8(ascii: "x") ? UInt8(ascii: "X") : bytes[17]
            guard checkBytes[sum % 11] == last else { return nil }
            return last == bytes[17] ? String(decoding: bytes, as: UTF8.self) : String(decoding: bytes.prefix(17), as: UTF8.self) + "X"
        } ?? nil
    }

    private static let checkBytes: [UInt8] = checkCharacters.map { $0.asciiValue! }

    /// The check character GB 11643 gives for 17 leading digits (used to make demo and test data).
    public static func checkCharacter(for first17: String) -> Character? {
        let digits = first17.compactMap(\.wholeNumberValue)
        guard digits.count == 17, first17.count == 17 else { return nil }
        return checkCharacters[zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 } % 11]
    }
}
