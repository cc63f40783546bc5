import Foundation
import Logging
import YongjunCore
import YongjunStorage

/// The shop verification path: authenticate the shop, check the code and the card, decide, record durably, answer.
///
/// It is the hot path. A known code costs a dictionary lookup instead of an Ed25519 verify, the shop and card
/// come from one read, and the record joins the next group commit; the answer waits for that commit.
public final class VerificationService: Sendable {
    let database: AppDatabase
    let log: VerificationLog
    let keys: KeyRingProvider
    let cache = AuthenticatedCodeCache()
    let ledger = VerificationLedger()
    let shortCodes = ShortCodeTable()
    let clockText = TimestampCache()
    let settings: ServerSettings
    let metrics: ServerMetrics
    let now: @Sendable () -> Date

    public init(
        database: AppDatabase,
        log: VerificationLog,
        keys: KeyRingProvider,
        settings: ServerSettings,
        metrics: ServerMetrics,
        now: @escaping @Sendable () -> Date
    ) {
        self.database = database
        self.log = log
        self.keys = keys
        self.settings = settings
        self.metrics = metrics
        self.now = now
    }

    /// Why a shop may not verify at all; these are HTTP 401/403, not verification results.
    public enum Refusal: String, Sendable, Error {
        case missingKey = "missing_api_key"
        case unknownKey = "unknown_api_key"
        case merchantSuspended = "merchant_suspended"
        case merchantRevoked = "merchant_revoked"
        /// Too many unknown numeric codes from this shop key recently.
        case tooManyGuesses = "too_many_guesses"
    }

    /// Rebuilds the used-code and nonce memory from the database; call before serving.
    public func restoreLedger() async throws {
        let now = now()
        let retention = Int(settings.nonceRetention)
        let entries = try await database.recentVerifications(now: now, since: now.addingTimeInterval(-max(settings.nonceRetention, 2 * 86_400)))
        ledger.restore(entries, nowSeconds: Int(now.timeIntervalSince1970), nonceRetention: retention) { entry in
            Int(Timestamp.parse(entry.createdAt)?.timeIntervalSince1970 ?? 0)
        }
    }

    /// Verifies `code` for the shop holding `apiKey`; returns the JSON body to send with 200.
    public func verify(code: String, nonce: String?, apiKey: String?) async throws(VerificationFailure) -> Answer {
        guard let apiKey else { throw .refused(.missingKey) }
        guard let key = MerchantAPIKey(parsing: apiKey) else { throw .refused(.unknownKey) }
        let now = now()
        let nowSeconds = Int(now.timeIntervalSince1970.rounded(.down))
        // The signature check is the only costly step; it runs here, in parallel, outside the shared transaction.
        let checked: Result<CodeVerifier.Authenticated, CodeRejection>
        if ShortCodeTable.looksLikeShortCode(code) {
            guard !shortCodes.isBlocked(keyID: key.keyID, now: nowSeconds) else { throw .refused(.tooManyGuesses) }
            checked = shortCodes.take(code, now: nowSeconds).map { authenticate($0, now: now) } ?? .failure(.unknownShortCode)
        } else {
            checked = authenticate(code, now: now)
        }
        var generator = SystemRandomNumberGenerator()
        let verificationID = RandomText.timeOrderedID(millis: UInt64(max(0, now.timeIntervalSince1970 * 1000)), using: &generator)
        let presented = Presented(keyID: key.keyID, keyHash: key.secretHash, createdAt: clockText.iso(now))
        let outcome: Outcome
        do {
            outcome = try await log.submit { snapshot in
                try self.decide(
                    presented: presented,
                    checked: checked,
                    nonce: nonce,
                    now: now,
                    verificationID: verificationID,
                    snapshot: snapshot
                )
            }
        } catch {
            let merchantID = try? await database.merchantID(apiKeyID: key.keyID)
            if let merchantID {
                ledger.forget(verificationID: verificationID, merchantID: merchantID, nonce: nonce, codeID: try? checked.get().claims.jti)
            }
            throw .unavailable
        }
        switch outcome {
        case .answered(let answer):
            if !answer.replayed { metrics.recordVerification(answer.reason) }
            if answer.reason == .unknownShortCode { shortCodes.recordMiss(keyID: key.keyID, now: nowSeconds) }
            return answer
        case .refused(let refusal): throw .refused(refusal)
        }
    }

    /// A 200 answer: the JSON body, the shop that asked, and the reason (nil when valid).
    public struct Answer: Sendable {
        public let body: String
        public let merchantID: Int64
        public let reason: VerificationReason?
        /// A retry answered with the first answer.
        public var replayed = false
    }

    enum Outcome: Sendable {
        case answered(Answer)
        case refused(Refusal)
    }

    /// Runs inside the verification log's transaction, so the shop and card are read as they stand right now.
    /// What is worked out per request before joining the shared transaction, to keep that transaction short.
    struct Presented: Sendable {
        let keyID: String
        let keyHash: String
        let createdAt: String
    }

    private func decide(
        presented: Presented,
        checked: Result<CodeVerifier.Authenticated, CodeRejection>,
        nonce: String?,
        now: Date,
        verificationID: String,
        snapshot: RegisterSnapshot
    ) throws -> (Outcome, VerificationEntry?) {
        guard let merchant = try snapshot.merchantCredential(apiKeyID: presented.keyID),
            MerchantAPIKey.hashesMatch(presented.keyHash, merchant.keyHash)
        else {
            return (.refused(.unknownKey), nil)
        }
        switch merchant.status {
        case .active: break
        case .suspended: return (.refused(.merchantSuspended), nil)
        case .revoked: return (.refused(.merchantRevoked), nil)
        }
        let authenticated = try? checked.get()
        let claims = authenticated?.claims
        let card = try claims.flatMap { try snapshot.cardStanding(id: $0.sub) }
        var reason: VerificationReason?
        switch checked {
        case .failure(let rejection): reason = VerificationReason(rejection)
        case .success(let authenticated):
            if let rejection = authenticated.claims.timeRejection(now: now, leeway: settings.clockLeeway) {
                reason = VerificationReason(rejection)
            } else if let card {
                reason = card.rejection(today: CalendarDate(chinaDayOf: now))
            } else {
                reason = .unknownCard
            }
        }
        let use = claims.map { Self.use(of: $0, now: now, leeway: settings.clockLeeway) }
        let decision = ledger.decide(
            verificationID: verificationID,
            merchantID: merchant.merchantID,
            nonce: nonce,
            use: use,
            reason: reason,
            nowSeconds: Int(now.timeIntervalSince1970.rounded(.down)),
            nonceRetention: Int(settings.nonceRetention)
        ) { reason in
            Self.responseBody(reason: reason, claims: claims, card: card, verificationID: verificationID)
        }
        switch decision {
        case .replay(let body):
            return (.answered(Answer(body: body, merchantID: merchant.merchantID, reason: nil, replayed: true)), nil)
        case .fresh(let body, let finalReason):
            let entry = VerificationEntry(
                id: verificationID,
                merchantID: merchant.merchantID,
                cardID: card?.cardID,
                codeID: claims?.jti,
                keyID: authenticated?.kid,
                valid: finalReason == nil,
                reason: finalReason?.rawValue,
                nonce: nonce,
                codeExpiresAt: use?.until,
                createdAt: presented.createdAt,
                response: body
            )
            return (.answered(Answer(body: body, merchantID: merchant.merchantID, reason: finalReason)), entry)
        }
    }

    /// Signature and claims, from the cache when this exact code was seen before.
    private func authenticate(_ code: String, now: Date) -> Result<CodeVerifier.Authenticated, CodeRejection> {
        if let hit = cache.lookup(code) { return .success(hit) }
        var result = keys.verifier.authenticate(code)
        if case .failure(.unknownKey) = result, keys.reloadIfStale(now: now) {
            cache.removeAll()
            result = keys.verifier.authenticate(code)
        }
        if case .success(let authenticated) = result {
            cache.insert(code, authenticated, nowSeconds: Int(now.timeIntervalSince1970))
        }
        return result
    }

    /// What "already used here" remembers for a code. A phone code is one use per shop until it expires; a
    /// printed credential lives for years, so it counts once per shop per China calendar day instead.
    static func use(of claims: CodeClaims, now: Date, leeway: Int) -> (codeID: String, until: Int) {
        guard claims.exp - claims.iat > 86_400 else { return (claims.jti, claims.exp + leeway) }
        let today = CalendarDate(chinaDayOf: now)
        let endOfDay = (today.daysSinceEpoch + 1) * 86_400 - CalendarDate.chinaOffsetSeconds
        return (claims.jti + "@" + today.description, endOfDay)
    }

    static func responseBody(reason: VerificationReason?, claims: CodeClaims?, card: CardStanding?, verificationID: String) -> String {
        var json = JSONText()
        if let reason {
            json.add("valid", false)
            json.add("reason", reason.rawValue)
            json.add("message", reason.message)
        } else if let claims, let card {
            json.add("valid", true)
            json.add("category", card.category.rawValue)
            json.add("categoryLabel", card.category.label)
            json.add("holder", claims.name)
            json.add("cardExpires", card.validUntil.description)
            json.add("message", "请核对优待证")
        }
        json.add("verificationId", verificationID)
        return json.string
    }
}

/// A verification that gets no 200 answer.
public enum VerificationFailure: Error, Sendable {
    case refused(VerificationService.Refusal)
    /// The record could not be written or read; nothing was acknowledged.
    case unavailable
}
