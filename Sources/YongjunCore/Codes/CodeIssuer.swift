import Crypto
import Foundation

/// Signs codes for cards: compact JWS, `alg` EdDSA, with the signing key's `kid` in the header.
public struct CodeIssuer: Sendable {
    public let key: SigningKey
    public let issuer: String
    /// The status list's URL, named in every code whose card has an entry; nil leaves the entry out.
    public let statusListURI: String?

    /// Phone codes rotate every three minutes unless configured otherwise.
    public static let defaultLifetime = 180

    public init(key: SigningKey, issuer: String, statusListURI: String? = nil) {
        self.key = key
        self.issuer = issuer
        self.statusListURI = statusListURI
    }

    /// A code for `card` valid from `now` for `lifetime` seconds.
    public func issue(
        for card: CodeSubject,
        now: Date,
        lifetime: Int = CodeIssuer.defaultLifetime,
        using generator: inout some RandomNumberGenerator
    ) throws -> IssuedCode {
        let issuedAt = Int(now.timeIntervalSince1970.rounded(.down))
        let claims = CodeClaims(
            iss: issuer,
            sub: card.cardID,
            jti: RandomText.base32(count: 16, using: &generator),
            iat: issuedAt,
            nbf: issuedAt,
            exp: issuedAt + lifetime,
            cat: card.category.rawValue,
            name: NameMask.mask(card.name),
            status: card.statusIndex.flatMap { index in statusListURI.map { StatusClaim(idx: index, uri: $0) } }
        )
        return IssuedCode(token: try sign(claims), claims: claims)
    }

    /// Signs arbitrary claims (tests use it to build codes with unusual times).
    public func sign(_ claims: CodeClaims) throws -> String {
        try key.sign(claims, type: "JWT")
    }
}

/// The card facts a code is made from.
public struct CodeSubject: Sendable {
    public var cardID: String
    public var name: String
    public var category: CardCategory
    /// The card's entry in the status list.
    public var statusIndex: Int?

    public init(cardID: String, name: String, category: CardCategory, statusIndex: Int? = nil) {
        self.cardID = cardID
        self.name = name
        self.category = category
        self.statusIndex = statusIndex
    }
}

/// A freshly signed code and what it says.
public struct IssuedCode: Sendable {
    public let token: String
    public let claims: CodeClaims
}
