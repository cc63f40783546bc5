import Crypto

/// Turns an ID number into a keyed hash (HMAC-SHA256) so the register can match people without storing the number.
///
/// The key lives beside the signing keys, not in the database: a stolen database alone cannot be brute-forced.
public struct IDNumberHasher: Sendable {
    /// The HMAC with the key already absorbed (its inner and outer pads hashed once, not once per number): each
    /// `hash` works on a copy, which the digest copies on write.
    private let keyed: HMAC<SHA256>

    public init(keyBytes: [UInt8]) {
        keyed = HMAC<SHA256>(key: SymmetricKey(data: keyBytes))
    }

    public func hash(_ idNumber: ChineseIDNumber) -> String {
        var mac = keyed
        mac.update(data: Array(idNumber.value.utf8))
        return Base64URL.encode(Array(mac.finalize()))
    }
}
