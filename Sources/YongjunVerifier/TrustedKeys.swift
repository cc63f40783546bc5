import Crypto
import Foundation

/// A JSON Web Key Set of Ed25519 public keys.
public struct JWKS: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public var kty = "OKP"
        public var crv = "Ed25519"
        public var use = "sig"
        public var alg = "EdDSA"
        public var kid: String
        public var x: String

        public init(kid: String, x: String) {
            self.kid = kid
            self.x = x
        }
    }

    public var keys: [Key]

    public init(keys: [Key]) { self.keys = keys }
}

/// The Ed25519 public keys codes may be signed with, by `kid`: the server's key ring, or a snapshot's key set.
public struct TrustedKeys: Sendable {
    private let keys: [String: Curve25519.Signing.PublicKey]
    /// The kids, in the order given.
    public let kids: [String]

    public init(_ keys: [(String, Curve25519.Signing.PublicKey)]) {
        self.keys = Dictionary(keys, uniquingKeysWith: { first, _ in first })
        kids = keys.map(\.0)
    }

    /// The Ed25519 keys of a JWKS; nil when any key is not a well-formed Ed25519 key (a set is trusted whole or not at all).
    public init?(jwks: JWKS) {
        var keys: [(String, Curve25519.Signing.PublicKey)] = []
        for key in jwks.keys {
            guard key.kty == "OKP", key.crv == "Ed25519", let raw = Base64URL.decode(Substring(key.x)),
                let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else { return nil }
            keys.append((key.kid, publicKey))
        }
        self.init(keys)
    }

    public func publicKey(kid: String) -> Curve25519.Signing.PublicKey? { keys[kid] }
    public var isEmpty: Bool { keys.isEmpty }
}
