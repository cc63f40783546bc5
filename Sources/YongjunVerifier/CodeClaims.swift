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
    /// The card's entry in the status list (draft-ietf-oauth-status-list), so a device can check it offline.
    /// Codes issued before the status list have none.
    public var status: StatusClaim?

    public init(
        iss: String,
        sub: String,
        jti: String,
        iat: Int,
        nbf: Int,
        exp: Int,
        cat: String,
        name: String,
        status: StatusClaim? = nil
    ) {
        self.iss = iss
        self.sub = sub
        self.jti = jti
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.cat = cat
        self.name = name
        self.status = status
    }

    public var category: CardCategory? { CardCategory(rawValue: cat) }
    public var expiresAt: Date { Date(timeIntervalSince1970: TimeInterval(exp)) }

    /// Earliest and latest instants a time claim may name (2000-01-01 and 2200-01-01 UTC): nothing we sign lies outside.
    public static let earliestTime = 946_684_800
    public static let latestTime = 7_258_118_400
    /// The longest validity the server issues: a printed credential lasts until the card expires, ten years at most.
    public static let longestLifetime = 3653 * 86_400

    /// Why the times cannot be from our issuer (out of range, `nbf` after `exp` or before `iat`, too long a lifetime);
    /// nil when consistent. Checked before any arithmetic on them, which therefore cannot overflow.
    public func boundsRejection(leeway: Int) -> CodeRejection? {
        let range = Self.earliestTime...Self.latestTime
        guard range.contains(iat), range.contains(nbf), range.contains(exp) else { return .malformed }
        guard nbf <= exp, nbf >= iat - leeway, exp - iat <= Self.longestLifetime else { return .malformed }
        return nil
    }

    /// Checks the validity window at `now`, allowing `leeway` seconds of clock difference either way; a code
    /// claiming to be issued later than `now` plus the leeway is not yet valid.
    public func timeRejection(now: Date, leeway: Int) -> CodeRejection? {
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        if seconds >= exp.saturatingAdd(leeway) { return .expired }
        if seconds < nbf.saturatingAdd(-leeway) || seconds < iat.saturatingAdd(-leeway) { return .notYetValid }
        return nil
    }
}

extension Int {
    /// `self + other`, pinned to `Int.min`/`Int.max` instead of trapping: claims come from outside.
    public func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
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

/// `"status": {"status_list": {"idx": 48213, "uri": "https://…/api/v1/status-list"}}`.
public struct StatusClaim: Codable, Sendable, Equatable {
    public struct Reference: Codable, Sendable, Equatable {
        public var idx: Int
        public var uri: String

        public init(idx: Int, uri: String) {
            self.idx = idx
            self.uri = uri
        }
    }

    public var statusList: Reference

    public init(idx: Int, uri: String) { statusList = Reference(idx: idx, uri: uri) }

    enum CodingKeys: String, CodingKey {
        case statusList = "status_list"
    }
}
