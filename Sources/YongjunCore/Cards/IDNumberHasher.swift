import Crypto

/// Turns an ID number into a keyed hash (HMAC-SHA256) so the register can match people without storing the number.
///
/// The key lives beside the signing keys, not in the database: a stolen database alone cannot be brute-forced.
public struct IDNumberHasher: Sendable {
    private let key: SymmetricKey

    public init(keyBytes: [UInt8]) {
        self.key = SymmetricKey(data: keyBytes)
    }

    public func hash(_ idNumber: ChineseIDNumber) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(idNumber.value.utf8), using: key)
        return Base64URL.encode(Array(mac))
    }
}
