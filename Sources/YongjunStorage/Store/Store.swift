import Foundation
import YongjunCore

/// Everything the running service asks of its store, whichever database holds it: the embedded SQLite file
/// (`AppDatabase`) or a PostgreSQL database shared by several instances (`PostgresStore` in YongjunPostgres).
///
/// Routes and services hold an `any Store` and never learn which one they got. Every promise the service makes
/// across requests (a code used once per shop, a nonce answered once, a 9-digit number redeemed once, guess budgets,
/// sign-in locks, sessions) is kept by the store, so it holds for any number of instances sharing it.
public protocol Store: Sendable {
    /// A trivial read, to tell that the store answers (readiness checks).
    func ping() async throws

    // MARK: The verification log

    /// Runs `decide` in one write transaction and returns once it is durably committed; a throw rolls it all back.
    func inVerificationTransaction(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws
    /// Makes writes waiting for a lock give up at once (the service is being cancelled).
    func abandonLockWaits()
    /// The verification log has stopped: give back what it held between groups (PostgreSQL: its connection).
    func verificationLogStopped() async
    /// Valid uses of unexpired codes and nonces recorded since `earliest` (memory rebuilt at start).
    func recentVerifications(now: Date, since earliest: Date) async throws -> [VerificationEntry]
    /// Keeps a 9-digit number for `token` until `expires` (Unix seconds); returns the number.
    func registerShortCode(token: String, expires: Int, now: Int) async throws -> String

    // MARK: Histories

    func shopHistory(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopHistoryEntry]
    func holderHistory(cardID: String, limit: Int) async throws -> [HolderHistoryEntry]
    /// Files settled verifications under their card; returns how many records it looked at.
    func indexCardHistory(settled: String, batch: Int) async throws -> Int

    // MARK: Holders

    func holderSignInState(cardNo: String, now: Date) async throws -> Result<StoredHolderSecrets?, HolderAccessError>
    func finishHolderSignIn(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        newPINHash: String?
    ) async throws
        -> Result<Card, HolderAccessError>
    func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) async throws
    func holderSessionCard(token: String, now: Date) async throws -> Card?
    func endHolderSession(token: String) async throws

    // MARK: Shops

    func merchant(presenting key: MerchantAPIKey) async throws -> Merchant?
    func merchant(deviceToken token: String) async throws -> Merchant?
    func merchant(id: Int64) async throws -> Merchant?
    func merchants(status: Merchant.Status?, industry: Industry?) async throws -> [Merchant]
    func addShopDevice(merchantID: Int64, token: String, label: String, now: Date) async throws
    func shopDevices(merchantID: Int64) async throws -> [ShopDevice]
    func revokeShopDevice(merchantID: Int64, deviceID: Int64, now: Date) async throws -> Bool
    func snapshotBenefitRules(merchantID: Int64) async throws -> [BenefitRule]
    func allBenefitRules() async throws -> [Int64: [BenefitRule]]

    // MARK: Applications from the public page

    /// The number of the batch that takes applications now, if any.
    func openBatchNumber() async throws -> Int64?
    /// Files one application from the public form into batch `number`; returns its reference. Throws
    /// `ImportConflicts` when its credit code is a partner shop's or still under review in another batch.
    func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String

    // MARK: The status list

    func statusListSource(today: CalendarDate) async throws -> StatusListSource
    func setServiceState(_ name: String, _ value: String) async throws

    // MARK: Keys

    /// Signing key ids that `keys init` / `keys rotate` recorded in the audit log (a key file without one is suspect).
    func auditedSigningKeyIDs() async throws -> Set<String>
}

/// The store gave no answer in time (unreachable, or a statement left unanswered): the HTTP edge answers 503
/// "unavailable, retry" for it, never 500. What the call meant to write may or may not be recorded; every write a
/// route retries is idempotent (a verification by its nonce) or harmless twice (a sign-in, a session, a device).
public protocol StoreUnreachable: Error {}

/// The verification log's shared write transaction, as each request's decision sees it: the register as it stands
/// (shops, cashier devices, cards, benefit rules) and the promises the store keeps for every shop — a code is used
/// once here, a nonce is answered once, a 9-digit number is redeemed once and unknown numbers spend a guess budget.
public protocol VerificationTransaction {
    /// Reads at once what the group's requests will ask for (their cards and shops), so that a store paying a round
    /// trip per read pays one per group instead of one per request; later reads find them in the register cache.
    func prefetch(_ reads: RegisterReads) throws
    /// The shop holding API key `apiKeyID`, if any.
    func merchantCredential(apiKeyID: String) throws -> MerchantCredential?
    /// The shop a cashier device signed in for, when its session (stored as `tokenHash`) is not revoked.
    func merchantCredential(deviceTokenHash tokenHash: String) throws -> MerchantCredential?
    /// A card's category, validity and revocation, if the card exists.
    func cardStanding(id cardID: String) throws -> CardStanding?
    /// Claims `nonce` for this shop until `keepUntil`; when an earlier answer still holds it, returns that answer.
    func claimNonce(merchantID: Int64, nonce: String, verificationID: String, keepUntil: Int, now: Int) throws -> String?
    /// Inserts the record; a valid one also takes its `useKey`. Returns false, inserting nothing, when this shop
    /// already used that key: the unique index, not memory, has the last word.
    func record(_ entry: VerificationEntry) throws -> Bool
    /// Drops nonces past their retention; the caller runs it now and then, not per request.
    func pruneNonces(now: Int) throws
    /// Takes a guess from `merchantID`'s budget and the global one, then redeems `number` (used up on a hit, and put
    /// back if the transaction rolls back). A miss is counted; no guess left means the number is not looked at.
    func redeemShortCode(_ number: String, merchantID: Int64, now: Int, budget: GuessBudget) throws -> ShortCodeRedemption
    /// Puts a redeemed number back (its request turned out to be a replay of an earlier answer).
    func restoreShortCode(_ number: String, token: String, expires: Int) throws

    // Benefits
    func benefits(merchantID: Int64) throws -> ShopBenefits
    func hadBenefit(merchantID: Int64, cardID: String, rule: Int, day: String) throws -> Bool
    func grantBenefit(merchantID: Int64, cardID: String, rule: Int, day: String, verificationID: String) throws -> Bool

    // Offline records
    func cardHistory(id cardID: String) throws -> (standing: CardStanding, revokedAt: String?)?
    func merchantStatusSince(id merchantID: Int64) throws -> String?
    func storedOfflineRecord(merchantID: Int64, nonce: String) throws -> StoredOfflineRecord?
    func recordOffline(_ record: OfflineRecord) throws -> Bool
}

/// How many unknown 9-digit numbers may be sent within `window` seconds: by one shop, and by all shops together
/// (so many stolen keys cannot sweep the 10^9 numbers).
public struct GuessBudget: Sendable, Equatable {
    public var perShop: Int
    public var global: Int
    public var window: Int

    public init(perShop: Int = 10, global: Int = 200, window: Int = 600) {
        self.perShop = perShop
        self.global = global
        self.window = window
    }

    /// Whether a guess is left, given the times (Unix seconds, oldest first) of the misses within the window;
    /// nil when one is, else the seconds until the oldest counted miss leaves the window. The one budget rule.
    public func retryAfter(shopMisses: [Int], allMisses: [Int], now: Int) -> Int? {
        if shopMisses.count >= perShop { return max(1, shopMisses[shopMisses.count - perShop] + window - now) }
        if allMisses.count >= global { return max(1, allMisses[allMisses.count - global] + window - now) }
        return nil
    }
}

public enum ShortCodeRedemption: Sendable, Equatable {
    /// The signed code behind the number; the number is used up.
    case token(String)
    /// Not a live number; counted against the budgets.
    case miss
    /// No guess left in a budget: the number was not looked at. Retry after this many seconds.
    case blocked(retryAfter: Int)
}

/// The bureau's everyday register writes, each audited, on either store: what `yongjun cards …` and
/// `yongjun merchants …` run. Commands hold an `any AdminStore` and never learn which store it is.
public protocol AdminStore: Store, ReviewStore, ReportsStore, RecordsStore {
    func card(number cardNo: String) async throws -> Card?
    /// A holder's phone access as the bureau sees it (activation, failed PINs, lock), if any.
    func holderAccountStatus(cardNo: String) async throws -> HolderAccountStatus?
    /// Inserts new cards and updates changed ones from checked rows read one at a time (`AppDatabase.importCards`).
    func importCards(
        count: Int,
        next: () throws -> CardImportRow?,
        now: Date,
        dryRun: Bool,
        audit: AuditContext?,
        source: String,
        pacing: () -> ImportPacing
    ) async throws -> CardImportSummary
    func revokeCard(number cardNo: String, reason: String, now: Date, audit: AuditContext?) async throws
    func issueActivation(cardNo: String, code: String, now: Date, audit: AuditContext?) async throws
    func unlockHolder(cardNo: String, now: Date, audit: AuditContext?) async throws
    func addMerchant(
        name: String,
        industry: Industry,
        address: String?,
        benefit: String?,
        now: Date,
        audit: AuditContext?
    ) async throws
        -> Merchant
    func replaceMerchantKey(merchantID: Int64, with key: MerchantAPIKey, now: Date, audit: AuditContext?) async throws
    func changeMerchantStatus(id: Int64, to status: Merchant.Status, reason: String?, now: Date, audit: AuditContext?) async throws -> Merchant
    /// The audit chain, its sealed head, the register's state against the log, and the signing keys' entries.
    func verifyAudit(_ audit: AuditContext, keyIDs: [String]) async throws -> AuditVerification
}

/// The register rows a group's requests will read: the cards their codes name and the API keys shops presented.
public struct RegisterReads: Sendable {
    public var cardIDs: [String]
    public var apiKeyIDs: [String]

    public init(cardIDs: [String] = [], apiKeyIDs: [String] = []) {
        self.cardIDs = cardIDs
        self.apiKeyIDs = apiKeyIDs
    }

    public mutating func add(_ other: RegisterReads) {
        cardIDs += other.cardIDs
        apiKeyIDs += other.apiKeyIDs
    }

    public var isEmpty: Bool { cardIDs.isEmpty && apiKeyIDs.isEmpty }
}
