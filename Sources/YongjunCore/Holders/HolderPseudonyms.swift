import Crypto
import Foundation

/// What a shop knows a holder by: an HMAC of the card and the shop under a server key, so one shop can tell a
/// returning holder while two shops comparing their records cannot tell they served the same person.
public struct HolderPseudonyms: Sendable {
    private let key: SymmetricKey

    public init(keyBytes: [UInt8]) {
        key = SymmetricKey(data: keyBytes)
    }

    /// A key of its own, derived from `secret` (HKDF-SHA256), so the pseudonyms reveal nothing about what else
    /// `secret` keys.
    public init(derivedFrom secret: [UInt8]) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret),
            info: Data("yongjun holder pseudonym v1".utf8),
            outputByteCount: 32
        )
    }

    /// `h-` and 16 base32 characters (80 bits), stable for this card at this shop.
    public func pseudonym(cardID: String, merchantID: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(cardID)|\(merchantID)".utf8), using: key)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var bits = 0
        var value = 0
        var text = "h-"
        for byte in mac {
            value = value << 8 | Int(byte)
            bits += 8
            while bits >= 5, text.count < 18 {
                bits -= 5
                text.append(alphabet[(value >> bits) & 31])
            }
            value &= (1 << bits) - 1
            if text.count == 18 { break }
        }
        return text
    }
}
