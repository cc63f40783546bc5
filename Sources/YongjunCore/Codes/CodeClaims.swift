import Foundation

/// What a signed code says about a card: standard JWT claims plus the category and masked name.
///
/// Deliberately absent: the ID number, the full name, the card number. `sub` is the card's opaque id.
public struct CodeClaims: Codable, Sendable, Equatable {
    /// Issuer, e.g. `yongjun`.
    public var iss: String
    /// The card's opaque id.
    public var sub: String
    /// A unique id for this code.
    public var jti: String
    public var iat: Int
    public var nbf: Int
    public var exp: Int
    /// `CardCategory` raw value.
    public var cat: String
    /// Masked holder name, 张*三.
    public var name: String

    public init(iss: String, sub: String, jti: String, iat: Int, nbf: Int, exp: Int, cat: String, name: String) {
        self.iss = iss
        self.sub = sub
        self.jti = jti
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.cat = cat
        self.name = name
    }

    public var category: CardCategory? { CardCategory(rawValue: cat) }
    public var expiresAt: Date { Date(timeIntervalSince1970: TimeInterval(exp)) }

    /// Checks the validity window at `now`, allowing `leeway` seconds of clock difference either way.
    public func timeRejection(now: Date, leeway: Int) -> CodeRejection? {
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        if seconds >= exp + leeway { return .expired }
        if seconds < nbf - leeway { return .notYetValid }
        return nil
    }
}

/// Why a code itself (before looking at the card) is not acceptable.
public enum CodeRejection: String, Error, Sendable, CaseIterable {
    case malformed
    case badSignature = "bad_signature"
    case unknownKey = "unknown_key"
    case expired
    case notYetValid = "not_yet_valid"
    /// A typed numeric code that this server did not issue, or that was already used or expired.
    case unknownShortCode = "unknown_short_code"
}
