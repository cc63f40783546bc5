import Foundation

/// Verifies codes on a shop device from a signed snapshot, by the server's own rules (`CodeVerifier`, `CodeClaims`,
/// `CodeUse`), with the status list standing in for the register. Made by `ShopSnapshot.open`.
public struct OfflineVerifier: Sendable {
    public let snapshot: ShopSnapshot
    public let codes: CodeVerifier
    /// The list's URL; a code naming another list cannot be checked with this one.
    public let statusListURI: String
    let statusListExpires: Int
    let list: StatusList

    init(snapshot: ShopSnapshot, keys: TrustedKeys, statusListURI: String, statusListExpires: Int, list: StatusList) {
        self.snapshot = snapshot
        self.codes = CodeVerifier(keys: keys, issuer: snapshot.iss, leeway: snapshot.clockLeeway)
        self.statusListURI = statusListURI
        self.statusListExpires = statusListExpires
        self.list = list
    }

    /// `.syncRequired` when the device clock is earlier than the sync (minus the leeway: a clock set back would
    /// stretch the offline window) or the snapshot or its status list has expired; nil when it may be used.
    public func freshness(now: Date) -> ShopSnapshot.Problem? {
        let seconds = Int(now.timeIntervalSince1970.rounded(.down))
        if seconds < snapshot.iat - snapshot.clockLeeway || seconds >= snapshot.exp || seconds >= statusListExpires {
            return .syncRequired
        }
        return nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    /// Seconds since the sync (for "数据同步于 N 分钟前").
    public func age(now: Date) -> Int { max(0, Int(now.timeIntervalSince1970) - snapshot.iat) }

    public struct Verdict: Sendable, Equatable {
        /// nil when valid.
        public let reason: VerificationReason?
        public let claims: CodeClaims?
        /// What single use remembers; set for a valid verdict, which the caller must then remember.
        public let use: CodeUse?
        public var valid: Bool { reason == nil }

        public init(reason: VerificationReason?, claims: CodeClaims?, use: CodeUse?) {
            self.reason = reason
            self.claims = claims
            self.use = use
        }
    }

    /// The verdict for `code` at `now`; `alreadyUsed` answers whether this device already accepted a use key.
    public func verify(_ code: String, now: Date, alreadyUsed: (String) -> Bool) -> Verdict {
        func refuse(_ reason: VerificationReason, _ claims: CodeClaims? = nil) -> Verdict { Verdict(reason: reason, claims: claims, use: nil) }
        if freshness(now: now) != nil { return refuse(.syncRequired) }
        // A scanner may add a newline; trimming only when there is something to trim keeps Foundation off the common path.
        let padded = code.utf8.first.map(Self.isSpace) == true || code.utf8.last.map(Self.isSpace) == true
        let trimmed = padded ? code.trimmingCharacters(in: .whitespacesAndNewlines) : code
        if (8...10).contains(trimmed.utf8.count), trimmed.utf8.allSatisfy({ (48...57).contains($0) }) { return refuse(.offlineUnsupported) }
        let claims: CodeClaims
        switch codes.verify(trimmed, now: now, leeway: snapshot.clockLeeway) {
        case .failure(let rejection): return refuse(VerificationReason(rejection))
        case .success(let authenticated): claims = authenticated.claims
        }
        guard let entry = claims.status?.statusList, entry.uri == statusListURI else { return refuse(.offlineUnsupported, claims) }
        switch list[entry.idx] {
        case nil: return refuse(.malformed, claims)
        case .revoked: return refuse(.cardRevoked, claims)
        case .expired: return refuse(.cardExpired, claims)
        case .reserved: return refuse(.offlineUnsupported, claims)
        case .valid: break
        }
        let use = CodeUse(of: claims, now: now, leeway: snapshot.clockLeeway)
        if alreadyUsed(use.key) { return refuse(.alreadyUsedHere, claims) }
        return Verdict(reason: nil, claims: claims, use: use)
    }
}

extension OfflineVerifier {
    /// What the shop's rules (from the snapshot) give this holder at `now`, as the server decides it;
    /// `hadBenefit(rule, day)` says whether this device already gave that once-a-day rule to this card today.
    public func benefit(for claims: CodeClaims, now: Date, hadBenefit: (Int, String) -> Bool) -> (decision: BenefitDecision, day: String)? {
        guard let category = claims.category else { return nil }
        let day = CalendarDate(chinaDayOf: now)
        let decision = (snapshot.shop.rules ?? []).decide(category: category, day: day, fallback: snapshot.shop.benefit) { rule in
            hadBenefit(rule, day.description)
        }
        return (decision, day.description)
    }
}
