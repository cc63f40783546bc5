import Crypto
import Foundation

/// An Ed25519 key that signs codes, named by its `kid`.
public struct SigningKey: Sendable {
    public let kid: String
    public let createdAt: Date
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(kid: String, createdAt: Date, privateKey: Curve25519.Signing.PrivateKey) {
        self.kid = kid
        self.createdAt = createdAt
        self.privateKey = privateKey
    }

    /// A fresh key whose kid reads as its creation day plus a random tag, e.g. `k20261129-q3x9ta`.
    public static func generate(now: Date, using generator: inout some RandomNumberGenerator) -> SigningKey {
        let day = CalendarDate(chinaDayOf: now)
        let tag = RandomText.base32(count: 6, using: &generator)
        let kid = "k" + day.description.replacingOccurrences(of: "-", with: "") + "-" + tag
        return SigningKey(kid: kid, createdAt: now, privateKey: Curve25519.Signing.PrivateKey())
    }

    public var publicKey: Curve25519.Signing.PublicKey { privateKey.publicKey }

    /// A compact JWS of `payload` (sorted keys), header `alg` EdDSA, this key's `kid` and `typ`.
    public func sign(_ payload: some Encodable, type: String) throws -> String {
        let header = #"{"alg":"EdDSA","kid":"\#(kid)","typ":"\#(type)"}"#
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(try encoder.encode(payload))
        let signature = try privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// The set of public keys codes are checked against, and the current key new codes are signed with.
public struct KeyRing: Sendable {
    /// Keys oldest first; the last one signs.
    public let keys: [SigningKey]
    private let publicKeys: [String: Curve25519.Signing.PublicKey]

    public init(keys: [SigningKey]) {
        self.keys = keys.sorted { ($0.createdAt, $0.kid) < ($1.createdAt, $1.kid) }
        self.publicKeys = Dictionary(keys.map { ($0.kid, $0.publicKey) }, uniquingKeysWith: { first, _ in first })
    }

    /// The key that signs new codes.
    public var current: SigningKey? { keys.last }

    public func publicKey(kid: String) -> Curve25519.Signing.PublicKey? { publicKeys[kid] }

    /// RFC 7517 key set with RFC 8037 OKP keys, as served at `/.well-known/jwks.json`.
    public var jwks: JWKS {
        JWKS(keys: keys.map { JWKS.Key(kid: $0.kid, x: Base64URL.encode($0.publicKey.rawRepresentation)) })
    }

    /// The public half, as a verifier holds it.
    public var trusted: TrustedKeys { TrustedKeys(keys.map { ($0.kid, $0.publicKey) }) }
}

extension CodeVerifier {
    /// A verifier for the server's own key ring.
    public init(keyRing: KeyRing, issuer: String, leeway: Int = 30) {
        self.init(keys: keyRing.trusted, issuer: issuer, leeway: leeway)
    }
}
