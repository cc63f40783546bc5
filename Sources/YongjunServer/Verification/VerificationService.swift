import Foundation
import Logging
import Synchronization
import YongjunCore
import YongjunStorage

/// The shop verification path: authenticate the shop, check the code and the card, decide, record durably, answer.
///
/// It is the hot path. A known code costs a dictionary lookup instead of an Ed25519 verify, the shop and card
/// come from one read, and the record joins the next group commit; the answer waits for that commit. Every
/// decision runs inside the group's transaction, after the shop is known to be active, so nothing a shop is not
/// entitled to (a 9-digit number, a guess) is touched for a stranger.
public final class VerificationService: Sendable {
    let database: any Store
    let log: VerificationLog
    let keys: KeyRingProvider
    let cache = AuthenticatedCodeCache()
    let ledger = VerificationLedger()
    let guessBudget: GuessBudget
    let clockText = TimestampCache()
    let settings: ServerSettings
    let metrics: ServerMetrics
    let now: @Sendable () -> Date
    /// When expired nonces are next dropped from the database (Unix seconds).
    let nextNoncePrune = Atomic<Int>(0)

    public init(
        database: any Store,
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
        self.guessBudget = GuessBudget(perShop: settings.shortCodeGuessLimit, global: settings.shortCodeGlobalGuessLimit)
    }

    /// Why a shop may not verify at all; these are HTTP 401/403/429, not verification results.
    public enum Refusal: String, Sendable, Error {
        case missingKey = "missing_api_key"
        case unknownKey = "unknown_api_key"
        case merchantSuspended = "merchant_suspended"
        case merchantRevoked = "merchant_revoked"
        /// Too many unknown numeric codes from this shop (or from all shops) recently.
        case tooManyGuesses = "too_many_guesses"
    }

    /// How a shop proves who it is: the API key, or the session of a cashier device signed in with that key.
    public enum ShopCredential: Sendable {
        case apiKey(String?)
        case device(token: String)
    }

    /// Rebuilds the used-code and nonce memory from the store; call before serving. (Guess budgets and 9-digit numbers
    /// live in the store itself, shared by every instance.)
    public func restoreMemory() async throws {
        let now = now()
        let nowSeconds = Int(now.timeIntervalSince1970)
        let retention = Int(settings.nonceRetention)
        let entries = try await database.recentVerifications(now: now, since: now.addingTimeInterval(-max(settings.nonceRetention, 2 * 86_400)))
        ledger.restore(entries, nowSeconds: nowSeconds) { entry in
            Int(Timestamp.parse(entry.createdAt)?.timeIntervalSince1970 ?? 0) + retention
        }
    }

    /// Verifies `code` for the shop presenting `credential`; returns the JSON body to send with 200.
    public func verify(code: String, nonce: String?, credential: ShopCredential) async throws(VerificationFailure) -> Answer {
        let shop = try Self.identify(credential)
        let now = now()
        // The signature check is the only costly step; it runs here, in parallel, outside the shared transaction.
        let presented: PresentedCode =
            ShortCode.looksLikeShortCode(code) ? .shortCode(code) : .signed(authenticate(code, now: now))
        var generator = SystemRandomNumberGenerator()
        let request = Request(
            shop: shop,
            code: presented,
            nonce: nonce,
            now: now,
            verificationID: RandomText.timeOrderedID(millis: UInt64(max(0, now.timeIntervalSince1970 * 1000)), using: &generator),
            createdAt: clockText.iso(now)
        )
        let decision: Decision
        do {
            decision = try await log.submit(
                reads: request.reads,
                { transaction in try self.decide(request, in: transaction) },
                committed: { decision in
                    guard case .answered(_, let entry?) = decision else { return }
                    self.ledger.remember(entry, keepNonceUntil: request.keepNonceUntil(self.settings), nowSeconds: request.nowSeconds)
                }
            )
        } catch {
            throw .unavailable
        }
        switch decision {
        case .answered(let answer, _):
            if !answer.replayed { metrics.recordVerification(answer.reason) }
            return answer
        case .refused(let refusal): throw .refused(refusal)
        case .throttled(let seconds): throw .throttled(retryAfter: seconds)
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

    /// Credentials as they are checked inside the transaction: key id and secret hash, or a device token's hash.
    enum ShopIdentity: Sendable {
        case apiKey(id: String, secretHash: String)
        case device(tokenHash: String)
    }

    enum PresentedCode: Sendable {
        case signed(Result<CodeVerifier.Authenticated, CodeRejection>)
        case shortCode(String)
    }

    /// What is worked out per request before joining the shared transaction, to keep that transaction short.
    struct Request: Sendable {
        let shop: ShopIdentity
        let code: PresentedCode
        let nonce: String?
        let now: Date
        let verificationID: String
        let createdAt: String
        var nowSeconds: Int { Int(now.timeIntervalSince1970.rounded(.down)) }
        func keepNonceUntil(_ settings: ServerSettings) -> Int { nowSeconds + Int(settings.nonceRetention) }
        /// The card its code names and the shop's API key: what `decide` will look up.
        var reads: RegisterReads {
            var reads = RegisterReads()
            if case .signed(.success(let authenticated)) = code { reads.cardIDs.append(authenticated.claims.sub) }
            if case .apiKey(let id, _) = shop { reads.apiKeyIDs.append(id) }
            return reads
        }
    }

    enum Decision: Sendable {
        case answered(Answer, VerificationEntry?)
        case refused(Refusal)
        case throttled(Int)
    }

    static func identify(_ credential: ShopCredential) throws(VerificationFailure) -> ShopIdentity {
        switch credential {
        case .apiKey(nil): throw .refused(.missingKey)
        case .apiKey(let text?):
            guard let key = MerchantAPIKey(parsing: text) else { throw .refused(.unknownKey) }
            return .apiKey(id: key.keyID, secretHash: key.secretHash)
        case .device(let token): return .device(tokenHash: HolderSecret.digest(token))
        }
    }
}

/// A verification that gets no 200 answer.
public enum VerificationFailure: Error, Sendable {
    case refused(VerificationService.Refusal)
    /// No guess left for 9-digit numbers; retry after this many seconds.
    case throttled(retryAfter: Int)
    /// The record could not be written or read; nothing was acknowledged.
    case unavailable
}
