import Crypto
import Foundation

/// Checks that a compact JWS was signed by one of our keys and carries well-formed claims.
///
/// Time is checked separately (`CodeClaims.timeRejection`) so a cache of authenticated codes can skip this.
/// The server and a shop device offline use this same check.
public struct CodeVerifier: Sendable {
    public let keys: TrustedKeys
    public let issuer: String
    /// Seconds of clock difference allowed between `iat` and `nbf` (see `CodeClaims.boundsRejection`).
    public let leeway: Int
    /// Codes longer than this are refused before any parsing.
    public static let maximumLength = 2048
    /// A code's `typ` is `JWT` (or absent); a status list or a snapshot token is never taken for a code.
    static let codeTypes: Set<String?> = [nil, "JWT"]

    public init(keys: TrustedKeys, issuer: String, leeway: Int = 30) {
        self.keys = keys
        self.issuer = issuer
        self.leeway = leeway
    }

    public func authenticate(_ token: String) -> Result<Authenticated, CodeRejection> {
        CompactJWS.verify(token, keys: keys, types: Self.codeTypes, maximumLength: Self.maximumLength).flatMap { verified in
            guard let claims = CodeClaims(plain: verified.payload) ?? (try? JSONDecoder().decode(CodeClaims.self, from: Data(verified.payload))),
                claims.iss == issuer, claims.category != nil, claims.boundsRejection(leeway: leeway) == nil,
                claims.status.map({ $0.statusList.idx >= 0 }) ?? true
            else { return .failure(.malformed) }
            return .success(Authenticated(kid: verified.kid, claims: claims))
        }
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

/// What "already used here" remembers for a code: a phone code is one use per shop until it expires; a printed
/// credential lives for years, so it counts once per shop per China calendar day instead. The server's database
/// index and a device's offline memory both key on this.
public struct CodeUse: Sendable, Equatable {
    public let key: String
    /// Unix seconds after which the use no longer needs remembering.
    public let until: Int

    /// Claims were bounds-checked when authenticated, so this arithmetic cannot overflow.
    public init(of claims: CodeClaims, now: Date, leeway: Int) {
        guard claims.exp - claims.iat > 86_400 else {
            key = claims.jti
            until = claims.exp.saturatingAdd(leeway)
            return
        }
        let today = CalendarDate(chinaDayOf: now)
        key = claims.jti + "@" + today.description
        until = (today.daysSinceEpoch + 1) * 86_400 - CalendarDate.chinaOffsetSeconds
    }
}
