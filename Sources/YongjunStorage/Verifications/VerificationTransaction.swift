import GRDB
import YongjunCore

/// `VerificationTransaction` on SQLite.
///
/// Register reads go through `RegisterCache`, emptied whenever another connection (the admin CLI) has committed
/// since the last group: SQLite's `data_version` tells, at the cost of one pragma per group. The group runs in an
/// IMMEDIATE transaction, so nothing can commit in between.
struct SQLiteVerificationTransaction: VerificationTransaction {
    let db: Database
    let cache: RegisterCache
    /// Looked up once per group: finding a cached statement hashes its SQL text, which adds up per request.
    private let insertRecord: Statement

    init(db: Database, cache: RegisterCache) throws {
        self.db = db
        self.cache = cache
        let version = try Int.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        cache.revalidate(dataVersion: version)
        insertRecord = try db.cachedStatement(
            sql: """
                INSERT INTO verifications
                    (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                     eligible, benefit, benefit_rule)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING
                """
        )
    }

    /// Nothing to gather: SQLite reads in-process, each read costs about what a cache lookup does.
    func prefetch(_ reads: RegisterReads) throws {}

    /// The shop holding API key `apiKeyID`, if any.
    func merchantCredential(apiKeyID: String) throws -> MerchantCredential? {
        if let cached = cache.merchant(apiKeyID) { return cached }
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, status, api_key_hash FROM merchants WHERE api_key_id = ?"),
            arguments: [apiKeyID]
        )
        guard let row, let status = Merchant.Status(rawValue: row[1]), let hash: String = row[2] else { return nil }
        let credential = MerchantCredential(merchantID: row[0], status: status, keyHash: hash)
        cache.store(credential, for: apiKeyID)
        return credential
    }

    /// The shop a cashier device signed in for, when its session (stored as `tokenHash`) is not revoked.
    func merchantCredential(deviceTokenHash tokenHash: String) throws -> MerchantCredential? {
        let cacheKey = "device:" + tokenHash
        if let cached = cache.merchant(cacheKey) { return cached }
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT merchants.id, merchants.status FROM shop_devices JOIN merchants ON merchants.id = shop_devices.merchant_id
                    WHERE shop_devices.token_hash = ? AND shop_devices.revoked_at IS NULL
                    """
            ),
            arguments: [tokenHash]
        )
        guard let row, let status = Merchant.Status(rawValue: row[1]) else { return nil }
        let credential = MerchantCredential(merchantID: row[0], status: status, keyHash: tokenHash)
        cache.store(credential, for: cacheKey)
        return credential
    }

    /// A card's category, validity and revocation, if the card exists.
    func cardStanding(id cardID: String) throws -> CardStanding? {
        if let cached = cache.card(cardID) { return cached }
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT category, valid_until, status FROM cards WHERE id = ?"),
            arguments: [cardID]
        )
        guard let row, let category = CardCategory(rawValue: row[0]), let validUntil = CalendarDate(iso: row[1]) else { return nil }
        let standing = CardStanding(cardID: cardID, category: category, validUntil: validUntil, revoked: row[2] == "revoked")
        cache.store(standing)
        return standing
    }

    /// Claims `nonce` for this shop until `keepUntil`; when an earlier answer still holds it, returns that answer.
    func claimNonce(merchantID: Int64, nonce: String, verificationID: String, keepUntil: Int, now: Int) throws -> String? {
        try db.cachedStatement(
            sql: """
                INSERT INTO verification_nonces (merchant_id, nonce, verification_id, keep_until) VALUES (?, ?, ?, ?)
                ON CONFLICT (merchant_id, nonce) DO UPDATE
                    SET verification_id = excluded.verification_id, keep_until = excluded.keep_until
                    WHERE verification_nonces.keep_until <= ?
                """
        ).execute(arguments: [merchantID, nonce, verificationID, keepUntil, now])
        guard db.changesCount == 0 else { return nil }
        return try String.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT verifications.response FROM verification_nonces
                    JOIN verifications ON verifications.id = verification_nonces.verification_id
                    WHERE verification_nonces.merchant_id = ? AND verification_nonces.nonce = ?
                    """
            ),
            arguments: [merchantID, nonce]
        )
    }

    /// Inserts the record; a valid one also takes its `useKey`. Returns false, inserting nothing, when this shop
    /// already used that key: the unique index, not memory, has the last word.
    func record(_ entry: VerificationEntry) throws -> Bool {
        try insertRecord.execute(arguments: [
            entry.id, entry.merchantID, entry.cardID, entry.codeID, entry.keyID, entry.valid, entry.reason,
            entry.nonce, entry.codeExpiresAt, entry.createdAt, entry.response, entry.useKey, entry.eligible, entry.benefit,
            entry.benefitRule,
        ])
        return db.changesCount == 1
    }

    /// Drops nonces past their retention; the caller runs it now and then, not per request.
    func pruneNonces(now: Int) throws {
        try db.execute(sql: "DELETE FROM verification_nonces WHERE keep_until <= ?", arguments: [now])
        try db.execute(sql: "DELETE FROM short_codes WHERE expires_at <= ?", arguments: [now])
        try db.execute(sql: "DELETE FROM short_code_misses WHERE at <= ?", arguments: [now - 86_400])
    }

    func redeemShortCode(_ number: String, merchantID: Int64, now: Int, budget: GuessBudget) throws -> ShortCodeRedemption {
        // The group's transaction is IMMEDIATE: no other instance or process writes in between, so the count is exact.
        let horizon = now - budget.window
        let shop = try Int.fetchAll(
            db.cachedStatement(sql: "SELECT at FROM short_code_misses WHERE merchant_id = ? AND at > ? ORDER BY at"),
            arguments: [merchantID, horizon]
        )
        let all = try Int.fetchAll(db.cachedStatement(sql: "SELECT at FROM short_code_misses WHERE at > ? ORDER BY at"), arguments: [horizon])
        if let seconds = budget.retryAfter(shopMisses: shop, allMisses: all, now: now) { return .blocked(retryAfter: seconds) }
        if let token = try String.fetchOne(
            db.cachedStatement(sql: "DELETE FROM short_codes WHERE number = ? AND expires_at > ? RETURNING token"),
            arguments: [number, now]
        ) {
            return .token(token)
        }
        try db.cachedStatement(sql: "INSERT INTO short_code_misses (merchant_id, at) VALUES (?, ?)").execute(arguments: [merchantID, now])
        return .miss
    }

    func restoreShortCode(_ number: String, token: String, expires: Int) throws {
        try db.execute(
            sql: "INSERT INTO short_codes (number, token, expires_at) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING",
            arguments: [number, token, expires]
        )
    }
}
