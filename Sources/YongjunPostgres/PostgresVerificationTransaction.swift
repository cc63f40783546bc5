import Foundation
import Logging
import NIOCore
import PostgresNIO
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
/// Its writes are buffered and sent at the end of the group as one multi-row statement per table (a round trip per
/// statement is what a group pays here, unlike SQLite's in-process calls). The answers they imply — "this use key is
/// mine", "this nonce is new" — are taken optimistically within the group; if another instance took one meanwhile,
/// the insert says so, the group is rolled back and decided again knowing it (`GroupHints`). Its decisions touch
/// nothing outside the database before the commit, so deciding again is safe.
final class PostgresVerificationTransaction: VerificationTransaction {
    let connection: PostgresConnection
    let cache: RegisterCache
    let logger: Logger
    let hints: GroupHints

    private var records: [VerificationEntry] = []
    private var responses: [String: String] = [:]
    private var takenKeys: Set<UseKey> = []
    private var nonces: [(merchantID: Int64, nonce: String, verificationID: String, keepUntil: Int, now: Int)] = []
    private var claimed: [NonceKey: String] = [:]
    private var grants: [(key: GrantKey, verificationID: String)] = []
    private var granted: Set<GrantKey> = []

    init(connection: PostgresConnection, cache: RegisterCache, logger: Logger, hints: GroupHints) {
        self.connection = connection
        self.cache = cache
        self.logger = logger
        self.hints = hints
    }

    /// Runs one statement and waits for all its rows.
    @discardableResult
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try connection.query(query, logger: logger).wait()
    }

    func revalidateCache() throws {
        let version = try run("SELECT version FROM register_version WHERE id = 1").first?.decode(Int64.self) ?? 0
        cache.revalidate(dataVersion: Int(version))
    }

    func merchantCredential(apiKeyID: String) throws -> MerchantCredential? {
        if let cached = cache.merchant(apiKeyID) { return cached }
        guard let row = try run("SELECT id, status, api_key_hash FROM merchants WHERE api_key_id = \(apiKeyID)").first else { return nil }
        let (id, status, hash) = try row.decode((Int64, String, String?).self)
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
        guard let row = try run("SELECT category, valid_until, status FROM cards WHERE id = \(cardID)").first else { return nil }
        let (category, validUntil, status) = try row.decode((String, String, String).self)
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
        try run("DELETE FROM verification_nonces WHERE keep_until <= \(now)")
        try run("DELETE FROM short_codes WHERE expires_at <= \(now)")
        try run("DELETE FROM short_code_misses WHERE at <= \(now - 86_400)")
    }

    func redeemShortCode(_ number: String, merchantID: Int64, now: Int, budget: GuessBudget) throws -> ShortCodeRedemption {
        // Instances decide in parallel transactions here (unlike SQLite's single writer): the budget is counted under a
        // transaction-scoped advisory lock, so two groups cannot both spend the last guess.
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

    // MARK: Sending the buffered writes

    /// Inserts what the group recorded; nil when every optimistic answer held, else what the next pass must know.
    func flush() throws -> GroupHints? {
        var next = hints
        var conflict = false
        for chunk in records.chunked(1000) {
            var binds = PostgresBindings(capacity: chunk.count * 15)
            var rows: [String] = []
            for entry in chunk {
                let base = binds.count
                rows.append("(" + (1...15).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                binds.append(entry.id)
                binds.append(entry.merchantID)
                binds.append(entry.cardID)
                binds.append(entry.codeID)
                binds.append(entry.keyID)
                binds.append(Int64(entry.valid ? 1 : 0))
                binds.append(entry.reason)
                binds.append(entry.nonce)
                binds.append(entry.codeExpiresAt.map(Int64.init))
                binds.append(entry.createdAt)
                binds.append(entry.response)
                binds.append(entry.useKey)
                binds.append(entry.eligible.map { Int64($0 ? 1 : 0) })
                binds.append(entry.benefit)
                binds.append(entry.benefitRule.map(Int64.init))
            }
            let inserted = try run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO verifications
                            (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                             eligible, benefit, benefit_rule)
                        VALUES \(rows.joined(separator: ", "))
                        ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING
                        RETURNING id
                        """,
                    binds: binds
                )
            )
            guard inserted.count < chunk.count else { continue }
            let stored = Set(try inserted.map { try $0.decode(String.self) })
            for entry in chunk where !stored.contains(entry.id) {
                guard let useKey = entry.useKey else { throw VerificationGroupError.recordRefused(entry.id) }
                next.takenKeys.insert(UseKey(merchantID: entry.merchantID, useKey: useKey))
                conflict = true
            }
        }
        if !nonces.isEmpty {
            let now = nonces.map(\.now).min() ?? 0
            var binds = PostgresBindings(capacity: nonces.count * 4 + 1)
            binds.append(Int64(now))
            var rows: [String] = []
            for claim in nonces {
                let base = binds.count
                rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
                binds.append(claim.merchantID)
                binds.append(claim.nonce)
                binds.append(claim.verificationID)
                binds.append(Int64(claim.keepUntil))
            }
            let inserted = try run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO verification_nonces (merchant_id, nonce, verification_id, keep_until) VALUES \(rows.joined(separator: ", "))
                        ON CONFLICT (merchant_id, nonce) DO UPDATE
                            SET verification_id = excluded.verification_id, keep_until = excluded.keep_until
                            WHERE verification_nonces.keep_until <= $1
                        RETURNING merchant_id, nonce
                        """,
                    binds: binds
                )
            )
            if inserted.count < nonces.count {
                let stored = Set(try inserted.map { row in try row.decode((Int64, String).self) }.map { NonceKey(merchantID: $0.0, nonce: $0.1) })
                for claim in nonces where !stored.contains(NonceKey(merchantID: claim.merchantID, nonce: claim.nonce)) {
                    let answer = try run(
                        """
                        SELECT verifications.response FROM verification_nonces
                        JOIN verifications ON verifications.id = verification_nonces.verification_id
                        WHERE verification_nonces.merchant_id = \(claim.merchantID) AND verification_nonces.nonce = \(claim.nonce)
                        """
                    ).first?.decode(String.self)
                    next.claimedNonces[NonceKey(merchantID: claim.merchantID, nonce: claim.nonce)] = answer ?? ""
                    conflict = true
                }
            }
        }
        for grant in grants {
            let key = grant.key
            let inserted = try run(
                """
                INSERT INTO benefit_grants (merchant_id, card_id, day, rule, verification_id)
                VALUES (\(key.merchantID), \(key.cardID), \(key.day), \(key.rule), \(grant.verificationID)) ON CONFLICT DO NOTHING
                """
            )
            if inserted.metadata.rows != 1 {
                next.takenGrants.insert(key)
                conflict = true
            }
        }
        return conflict ? next : nil
    }
}

/// What a pass of a group found taken by another instance, for the next pass to decide with.
struct GroupHints: Sendable {
    var takenKeys: Set<UseKey> = []
    var claimedNonces: [NonceKey: String] = [:]
    var takenGrants: Set<GrantKey> = []
}

struct UseKey: Hashable, Sendable {
    let merchantID: Int64
    let useKey: String
}

struct NonceKey: Hashable, Sendable {
    let merchantID: Int64
    let nonce: String
}

struct GrantKey: Hashable, Sendable {
    let merchantID: Int64
    let cardID: String
    let day: String
    let rule: Int
}

enum VerificationGroupError: Error {
    /// A record without a use key was not inserted: nothing but the single-use index may refuse one.
    case recordRefused(String)
    /// Another instance kept taking what this group decided on; it was rolled back.
    case keptConflicting
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
