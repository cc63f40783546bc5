import Crypto
import CryptoExtras
import Foundation

/// PINs stored with PBKDF2-HMAC-SHA256 and a random salt: `pbkdf2-sha256$<rounds>$<salt>$<hash>`.
/// Six digits are few, so the slow hash is paired with a lock after repeated failures.
public struct PINHasher: Sendable {
    public let rounds: Int

    public init(rounds: Int = 120_000) {
        self.rounds = rounds
    }

    public func hash(_ pin: String, using generator: inout some RandomNumberGenerator) throws -> String {
        let salt = RandomText.bytes(count: 16, using: &generator)
        return "pbkdf2-sha256$\(rounds)$\(Base64URL.encode(salt))$\(Base64URL.encode(try derive(pin, salt: salt, rounds: rounds)))"
    }

    public func verify(_ pin: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), let salt = Base64URL.decode(parts[2]),
            let expected = Base64URL.decode(parts[3]), let actual = try? derive(pin, salt: salt, rounds: rounds)
        else { return false }
        return ConstantTime.equal(actual, expected)
    }

    private func derive(_ pin: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(pin.utf8),
            salt: salt,
            using: .sha256,
            outputByteCount: 32,
            unsafeUncheckedRounds: rounds
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Rules for the holder's 6-digit PIN.
public enum PINRule {
    /// nil when acceptable, else what is wrong (in Chinese: the holder reads it).
    public static func problem(with pin: String) -> String? {
        guard pin.count == 6, pin.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "PIN 须为 6 位数字" }
        if Set(pin).count == 1 || "0123456789012".contains(pin) || "9876543210987".contains(pin) {
            return "PIN 太容易被猜到，请不要用相同或连续的数字"
        }
        return nil
    }
}

/// One-time and short-lived secrets handed to people.
public enum HolderSecret {
    /// A one-time activation code the bureau prints for a holder, e.g. `k7dq-2mxp-9tae` (60 bits).
    public static func activationCode(using generator: inout some RandomNumberGenerator) -> String {
        let raw = RandomText.base32(count: 12, using: &generator)
        return [raw.prefix(4), raw.dropFirst(4).prefix(4), raw.suffix(4)].joined(separator: "-")
    }

    /// Activation codes as typed: case, spaces and hyphens do not matter.
    public static func normalizedActivationCode(_ text: String) -> String {
        text.lowercased().filter { $0.isLetter || $0.isNumber }
    }

    /// A 9-digit code a cashier can type instead of scanning; valid as long as the signed code it stands for.
    public static func shortCode(using generator: inout some RandomNumberGenerator) -> String {
        String(format: "%09llu", generator.next() % 1_000_000_000)
    }

    /// A session token for the holder's browser (256 bits).
    public static func sessionToken(using generator: inout some RandomNumberGenerator) -> String {
        Base64URL.encode(RandomText.bytes(count: 32, using: &generator))
    }

    /// SHA-256 hex of a secret, for storage.
    public static func digest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
