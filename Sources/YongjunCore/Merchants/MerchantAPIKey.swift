import Crypto

/// A shop's secret for the verification API: `yjk_<key id>_<secret>`.
///
/// The key id finds the merchant; only SHA-256 of the secret is stored, and it is compared in constant time.
/// The secret has 256 random bits, so a fast hash is enough: there is nothing to brute-force.
public struct MerchantAPIKey: Sendable {
    public static let prefix = "yjk_"
    public let keyID: String
    public let secret: String

    /// The text handed to the shop, once.
    public var text: String { Self.prefix + keyID + "_" + secret }

    public static func generate(using generator: inout some RandomNumberGenerator) -> MerchantAPIKey {
        MerchantAPIKey(
            keyID: RandomText.base32(count: 10, using: &generator),
            secret: Base64URL.encode(RandomText.bytes(count: 32, using: &generator))
        )
    }

    private init(keyID: String, secret: String) {
        self.keyID = keyID
        self.secret = secret
    }

    /// Splits a presented key; nil when it is not shaped like one of ours.
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard bytes.count == prefix.count + 10 + 1 + 43, bytes.starts(with: prefix), bytes[prefix.count + 10] == UInt8(ascii: "_") else {
            return nil
        }
        let keyID = bytes[prefix.count..<(prefix.count + 10)]
        let secret = bytes[(prefix.count + 11)...]
        guard keyID.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let secretText = String(validating: secret, as: UTF8.self), Base64URL.decode(secretText)?.count == 32
        else { return nil }
        self.keyID = String(decoding: keyID, as: UTF8.self)
        self.secret = secretText
    }

    /// Hex SHA-256 of the secret: what the database keeps.
    public var secretHash: String { Self.hash(secret) }

    static func hash(_ secret: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(secret.utf8)) {
            output.append(hex[Int(byte >> 4)])
            output.append(hex[Int(byte & 15)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether this key's secret matches a stored hash.
    public func matches(storedHash: String) -> Bool {
        Self.hashesMatch(secretHash, storedHash)
    }

    /// Constant-time comparison of a presented key's hash (computed once, off the shared path) with the stored one.
    public static func hashesMatch(_ presented: String, _ stored: String) -> Bool {
        ConstantTime.equal(Array(presented.utf8), Array(stored.utf8))
    }
}
