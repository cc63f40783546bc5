import Crypto
import Foundation

/// Checks that a compact JWS was signed by one of our keys and carries well-formed claims.
///
/// Time is checked separately (`CodeClaims.timeRejection`) so a cache of authenticated codes can skip this.
public struct CodeVerifier: Sendable {
    public let keyRing: KeyRing
    public let issuer: String
    /// Seconds of clock difference allowed between `iat` and `nbf` (see `CodeClaims.boundsRejection`).
    public let leeway: Int
    /// Codes longer than this are refused before any parsing.
    public static let maximumLength = 2048

    public init(keyRing: KeyRing, issuer: String, leeway: Int = 30) {
        self.keyRing = keyRing
        self.issuer = issuer
        self.leeway = leeway
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
        var crit: [String]?
    }

    public func authenticate(_ token: String) -> Result<Authenticated, CodeRejection> {
        guard token.utf8.count <= Self.maximumLength else { return .failure(.malformed) }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerBytes = Base64URL.decode(Substring(parts[0])),
            let payloadBytes = Base64URL.decode(Substring(parts[1])),
            let signature = Base64URL.decode(Substring(parts[2])),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)),
            header.alg == "EdDSA", header.crit == nil, let kid = header.kid
        else { return .failure(.malformed) }
        guard let publicKey = keyRing.publicKey(kid: kid) else { return .failure(.unknownKey) }
        let signingInput = token.utf8.prefix(parts[0].count + 1 + parts[1].count)
        guard signature.count == 64, publicKey.isValidSignature(signature, for: Array(signingInput)) else {
            return .failure(.badSignature)
        }
        guard let claims = try? JSONDecoder().decode(CodeClaims.self, from: Data(payloadBytes)),
            claims.iss == issuer, claims.category != nil, claims.boundsRejection(leeway: leeway) == nil
        else { return .failure(.malformed) }
        return .success(Authenticated(kid: kid, claims: claims))
    }

    /// Authenticates and checks the validity window in one step.
    public func verify(_ token: String, now: Date, leeway: Int) -> Result<Authenticated, CodeRejection> {
        authenticate(token).flatMap { authenticated in
            if let rejection = authenticated.claims.timeRejection(now: now, leeway: leeway) { return .failure(rejection) }
            return .success(authenticated)
        }
    }

    /// A code whose signature checked out.
    public struct Authenticated: Sendable, Equatable {
        public let kid: String
        public let claims: CodeClaims

        public init(kid: String, claims: CodeClaims) {
            self.kid = kid
            self.claims = claims
        }
    }
}
