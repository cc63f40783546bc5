import Crypto
import Foundation

/// Signs codes for cards: compact JWS, `alg` EdDSA, with the signing key's `kid` in the header.
public struct CodeIssuer: Sendable {
    public let key: SigningKey
    public let issuer: String

    /// Phone codes rotate every three minutes unless configured otherwise.
    public static let defaultLifetime = 180

    public init(key: SigningKey, issuer: String) {
        self.key = key
        self.issuer = issuer
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
            name: NameMask.mask(card.name)
        )
        return IssuedCode(token: try sign(claims), claims: claims)
    }

    /// Signs arbitrary claims (tests use it to build codes with unusual times).
    public func sign(_ claims: CodeClaims) throws -> String {
        let header = #"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"JWT"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(try encoder.encode(claims))
        let signature = try key.privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// The card facts a code is made from.
public struct CodeSubject: Sendable {
    public var cardID: String
    public var name: String
    public var category: CardCategory

    public init(cardID: String, name: String, category: CardCategory) {
        self.cardID = cardID
        self.name = name
        self.category = category
    }
}

/// A freshly signed code and what it says.
public struct IssuedCode: Sendable {
    public let token: String
    public let claims: CodeClaims
}
