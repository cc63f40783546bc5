import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YongjunCore
import YongjunStorage

/// `VerificationTransaction` on PostgreSQL.
///
/// The verification log's decisions are synchronous (the SQLite store runs them inside GRDB's write closure), so
/// here they run on the store's own writer thread and wait for each statement's answer; the thread is never one of
/// NIO's event loops nor the cooperative pool. Register reads go through the same `RegisterCache` as on SQLite,
/// emptied whenever `register_version` (bumped by a trigger on every write to shops, devices, cards and benefit
/// rules, by any instance or the CLI) moved since the last group: a revocation is seen by the next group everywhere.
///
/// Its writes are buffered and sent at the end of the group (a round trip per statement is what a group pays here,
/// unlike SQLite's in-process calls): when the group only read the register and recorded verifications — the usual
/// case — as one statement outside any transaction, committed whole or not at all (`commitAsOneStatement`); when a
/// request needed a transaction (a 9-digit number, an offline record, pruning), it began one (`begin`) and the
/// writes go in it as one multi-row statement per table. The answers they imply — "this use key is mine", "this
/// nonce is new" — are taken optimistically within the group; if another instance took one meanwhile, the insert
/// says so, the group is rolled back and decided again knowing it (`GroupHints`). Its decisions touch nothing outside
/// the database before the commit, so deciding again is safe. Register reads outside a transaction see what they
/// would see inside one: PostgreSQL's READ COMMITTED reads the latest commit at every statement either way.
final class PostgresVerificationTransaction: VerificationTransaction {
    let connection: PostgresConnection
    let cache: RegisterCache
    let logger: Logger
    let hints: GroupHints

    var records: [VerificationEntry] = []
    var responses: [String: String] = [:]
    var takenKeys: Set<UseKey> = []
    var nonces: [(merchantID: Int64, nonce: String, verificationID: String, keepUntil: Int, now: Int)] = []
    var claimed: [NonceKey: String] = [:]
    var grants: [(key: GrantKey, verificationID: String)] = []
    var granted: Set<GrantKey> = []
    /// Whether BEGIN was sent for this pass.
    private(set) var begun = false

    init(connection: PostgresConnection, cache: RegisterCache, logger: Logger, hints: GroupHints) {
        self.connection = connection
        self.cache = cache
        self.logger = logger
        self.hints = hints
    }

    /// Runs one statement and waits for all its rows, at most `statementDeadline`.
    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try Self.wait(for: connection.query(query, logger: logger), within: Self.statementDeadline)
    }

    /// How long a group waits for one statement's answer. postgres-nio never answers a statement written to a
    /// connection that has just closed (the write is dropped with the connection's handler), so without a bound a
    /// group on a connection lost between two statements would wait for ever, and every till with it.
    static let statementDeadline: DispatchTimeInterval = .seconds(statementSeconds)
    static let statementSeconds = 15

    /// `future.wait()`, giving up with `PostgresStatementTimedOut` after `deadline`.
    static func wait<T: Sendable>(for future: EventLoopFuture<T>, within deadline: DispatchTimeInterval) throws -> T {
        let answered = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        future.whenComplete { outcome in
            result.withLock { $0 = outcome }
            answered.signal()
        }
        guard answered.wait(timeout: .now() + deadline) == .success, let outcome = result.withLock({ $0 }) else {
            throw PostgresStatementTimedOut()
        }
        return try outcome.get()
    }

    /// Starts the group's transaction, once: before a write that is not buffered, or before the buffered writes
    /// when they go as several statements.
    func begin() throws {
        guard !begun else { return }
        try run("BEGIN")
        begun = true
    }

    func revalidateCache() throws {
        cache.revalidate(dataVersion: try registerVersion())
    }

    func registerVersion() throws -> Int {
        Int(try run("SELECT version FROM register_version WHERE id = 1").first?.decode(Int64.self) ?? 0)
    }

    /// One query for the group's cards not in the cache, one for its shops' keys: a group of requests for cards this
    /// instance has not seen (most of them, at a till) would otherwise wait for a round trip per request.
    func prefetch(_ reads: RegisterReads) throws {
        let cards = Array(Set(reads.cardIDs.filter { cache.card($0) == nil }))
        if !cards.isEmpty {
            for row in try run("SELECT id, category, valid_until, status FROM cards WHERE id = ANY(\(cards))") { try cacheCard(row) }
        }
        let keys = Array(Set(reads.apiKeyIDs.filter { cache.merchant($0) == nil }))
        if !keys.isEmpty {
            for row in try run("SELECT api_key_id, id, status, api_key_hash FROM merchants WHERE api_key_id = ANY(\(keys))") {
                try cacheMerchant(row)
            }
        }
    }

    func merchantCredential(apiKeyID: String) throws -> MerchantCredential? {
        if let cached = cache.merchant(apiKeyID) { return cached }
        guard let row = try run("SELECT api_key_id, id, status, api_key_hash FROM merchants WHERE api_key_id = \(apiKeyID)").first else {
            return nil
        }
        return try cacheMerchant(row)
    }

    /// A row of (api_key_id, id, status, api_key_hash), kept in the cache when it is a usable credential.
    @discardableResult
    private func cacheMerchant(_ row: PostgresRow) throws -> MerchantCredential? {
        let (apiKeyID, id, status, hash) = try row.decode((String, Int64, String, String?).self)
        guard let status = Merchant.Status(rawValue: status), let hash else { return nil }
        let credential = MerchantCredential(merchantID: id, status: status, keyHash: hash)
        cache.store(credential, for: apiKeyID)
        return credential
    }

    func merchantCredential(deviceTokenHash tokenHash: String) throws -> MerchantCredential? {
        let cacheKey = "device:" + tokenHash
        if let cached = cache.merchant(cacheKey) { return cached }
        let rows = try run(
            """
            SELECT merchants.id, merchants.status FROM shop_devices JOIN merchants ON merchants.id = shop_devices.merchant_id
            WHERE shop_devices.token_hash = \(tokenHash) AND shop_devices.revoked_at IS NULL
            """
        )
        guard let row = rows.first else { return nil }
        let (id, status) = try row.decode((Int64, String).self)
        guard let status = Merchant.Status(rawValue: status) else { return nil }
        let credential = MerchantCredential(merchantID: id, status: status, keyHash: tokenHash)
        cache.store(credential, for: cacheKey)
        return credential
    }

    func cardStanding(id cardID: String) throws -> CardStanding? {
        if let cached = cache.card(cardID) { return cached }
        guard let row = try run("SELECT id, category, valid_until, status FROM cards WHERE id = \(cardID)").first else { return nil }
        return try cacheCard(row)
    }

    /// A row of (id, category, valid_until, status), kept in the cache.
    @discardableResult
    private func cacheCard(_ row: PostgresRow) throws -> CardStanding? {
        let (cardID, category, validUntil, status) = try row.decode((String, String, String, String).self)
        guard let category = CardCategory(rawValue: category), let until = CalendarDate(iso: validUntil) else { return nil }
        let standing = CardStanding(cardID: cardID, category: category, validUntil: until, revoked: status == "revoked")
        cache.store(standing)
        return standing
    }

    func claimNonce(merchantID: Int64, nonce: String, verificationID: String, keepUntil: Int, now: Int) throws -> String? {
        let key = NonceKey(merchantID: merchantID, nonce: nonce)
        if let answer = hints.claimedNonces[key] { return answer }
        // The same nonce twice in one group: the second gets the first's answer, as it would from the table.
        if let earlier = claimed[key] { return responses[earlier] }
        claimed[key] = verificationID
        nonces.append((merchantID, nonce, verificationID, keepUntil, now))
        return nil
    }

    func record(_ entry: VerificationEntry) throws -> Bool {
        if let useKey = entry.useKey {
            let key = UseKey(merchantID: entry.merchantID, useKey: useKey)
            guard !hints.takenKeys.contains(key), takenKeys.insert(key).inserted else { return false }
        }
        records.append(entry)
        responses[entry.id] = entry.response
        return true
    }

    func pruneNonces(now: Int) throws {
        try begin()
        try run("DELETE FROM verification_nonces WHERE keep_until <= \(now)")
        try run("DELETE FROM short_codes WHERE expires_at <= \(now)")
        try run("DELETE FROM short_code_misses WHERE at <= \(now - 86_400)")
    }

    func redeemShortCode(_ number: String, merchantID: Int64, now: Int, budget: GuessBudget) throws -> ShortCodeRedemption {
        // Instances decide in parallel transactions here (unlike SQLite's single writer): the budget is counted under a
        // transaction-scoped advisory lock, so two groups cannot both spend the last guess.
        try begin()
        try run("SELECT pg_advisory_xact_lock(\(PostgresStore.guessBudgetLock))")
        let horizon = now - budget.window
        let shop = try run("SELECT at FROM short_code_misses WHERE merchant_id = \(merchantID) AND at > \(horizon) ORDER BY at")
            .map { try Int($0.decode(Int64.self)) }
        let all = try run("SELECT at FROM short_code_misses WHERE at > \(horizon) ORDER BY at").map { try Int($0.decode(Int64.self)) }
        if let seconds = budget.retryAfter(shopMisses: shop, allMisses: all, now: now) { return .blocked(retryAfter: seconds) }
        if let row = try run("DELETE FROM short_codes WHERE number = \(number) AND expires_at > \(now) RETURNING token").first {
            return .token(try row.decode(String.self))
        }
        try run("INSERT INTO short_code_misses (merchant_id, at) VALUES (\(merchantID), \(now))")
        return .miss
    }

    func restoreShortCode(_ number: String, token: String, expires: Int) throws {
        try begin()
        try run("INSERT INTO short_codes (number, token, expires_at) VALUES (\(number), \(token), \(expires)) ON CONFLICT (number) DO NOTHING")
    }

    func benefits(merchantID: Int64) throws -> ShopBenefits {
        if let cached = cache.benefits(merchantID) { return cached }
        let fallback = try run("SELECT benefit FROM merchants WHERE id = \(merchantID)").first?.decode(String?.self) ?? nil
        let rules = try run(PostgresStore.benefitRulesQuery(merchantID: merchantID)).map(PostgresStore.benefitRule)
        let benefits = ShopBenefits(rules: rules, fallback: fallback)
        cache.store(benefits, for: merchantID)
        return benefits
    }

    func hadBenefit(merchantID: Int64, cardID: String, rule: Int, day: String) throws -> Bool {
        let key = GrantKey(merchantID: merchantID, cardID: cardID, day: day, rule: rule)
        if granted.contains(key) || hints.takenGrants.contains(key) { return true }
        return try run("SELECT 1 FROM benefit_grants WHERE merchant_id = \(merchantID) AND card_id = \(cardID) AND day = \(day) AND rule = \(rule)")
            .first != nil
    }

    func grantBenefit(merchantID: Int64, cardID: String, rule: Int, day: String, verificationID: String) throws -> Bool {
        let key = GrantKey(merchantID: merchantID, cardID: cardID, day: day, rule: rule)
        guard !hints.takenGrants.contains(key), granted.insert(key).inserted else { return false }
        grants.append((key, verificationID))
        return true
    }

    func cardHistory(id cardID: String) throws -> (standing: CardStanding, revokedAt: String?)? {
        guard let standing = try cardStanding(id: cardID) else { return nil }
        let revokedAt = try run("SELECT revoked_at FROM cards WHERE id = \(cardID)").first?.decode(String?.self) ?? nil
        return (standing, revokedAt)
    }

    func merchantStatusSince(id merchantID: Int64) throws -> String? {
        try run("SELECT status_changed_at FROM merchants WHERE id = \(merchantID)").first?.decode(String?.self) ?? nil
    }

    func storedOfflineRecord(merchantID: Int64, nonce: String) throws -> StoredOfflineRecord? {
        let rows = try run(
            "SELECT id, valid, reason, conflict FROM verifications WHERE merchant_id = \(merchantID) AND nonce = \(nonce) AND offline = 1"
        )
        guard let row = rows.first else { return nil }
        let (id, valid, reason, conflict) = try row.decode((String, Int64, String?, String?).self)
        return StoredOfflineRecord(verificationID: id, serverResult: valid != 0 ? "valid" : (reason ?? "invalid"), conflict: conflict)
    }

    func recordOffline(_ record: OfflineRecord) throws -> Bool {
        let entry = record.entry
        if let useKey = entry.useKey {
            let key = UseKey(merchantID: entry.merchantID, useKey: useKey)
            guard !hints.takenKeys.contains(key), !takenKeys.contains(key) else { return false }
        }
        try begin()
        return try run(
            """
            INSERT INTO verifications
                (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                 offline, device_result, conflict, received_at, eligible, benefit, benefit_rule)
            VALUES (\(entry.id), \(entry.merchantID), \(entry.cardID), \(entry.codeID), \(entry.keyID), \(entry.valid ? 1 : 0 as Int64),
                \(entry.reason), \(entry.nonce), \(entry.codeExpiresAt.map(Int64.init)), \(entry.createdAt), \(entry.response), \(entry.useKey),
                1, \(record.deviceResult), \(record.conflict), \(record.receivedAt),
                \(entry.eligible.map { $0 ? 1 : 0 as Int64 }), \(entry.benefit), \(entry.benefitRule.map(Int64.init)))
            ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING
            """
        ).metadata.rows == 1
    }
}
