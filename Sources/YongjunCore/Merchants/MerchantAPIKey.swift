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
        guard text.utf8.count == Self.prefix.utf8.count + 10 + 1 + 43, text.hasPrefix(Self.prefix) else { return nil }
        let body = text.dropFirst(Self.prefix.count)
        let keyID = body.prefix(10)
        guard body.dropFirst(10).first == "_" else { return nil }
        let secret = body.dropFirst(11)
        guard keyID.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) }), Base64URL.decode(secret)?.count == 32 else {
            return nil
        }
        self.keyID = String(keyID)
        self.secret = String(secret)
    }

    /// Hex SHA-256 of the secret: what the database keeps.
    public var secretHash: String { Self.hash(secret) }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// Whether this key's secret matches a stored hash.
    public func matches(storedHash: String) -> Bool {
        ConstantTime.equal(Array(secretHash.utf8), Array(storedHash.utf8))
    }
}
