import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Writes a group of verification records in one fsynced transaction.
    func insertVerifications(_ entries: [VerificationEntry]) async throws {
        try await dbWriter.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO verifications
                        (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for entry in entries {
                try statement.execute(arguments: [
                    entry.id, entry.merchantID, entry.cardID, entry.codeID, entry.keyID, entry.valid, entry.reason,
                    entry.nonce, entry.codeExpiresAt, entry.createdAt, entry.response,
                ])
            }
        }
    }

    /// The merchant behind an API key id and, when asked, a card's standing: one read for the hot path.
    public func verificationLookup(apiKeyID: String, cardID: String?) async throws -> (MerchantCredential?, CardStanding?) {
        try await dbWriter.read { db in
            let merchantRow = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, status, api_key_hash FROM merchants WHERE api_key_id = ?"),
                arguments: [apiKeyID]
            )
            let merchant = merchantRow.flatMap { row -> MerchantCredential? in
                guard let status = Merchant.Status(rawValue: row[1]), let hash: String = row[2] else { return nil }
                return MerchantCredential(merchantID: row[0], status: status, keyHash: hash)
            }
            guard let cardID else { return (merchant, nil) }
            let cardRow = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT category, valid_until, status FROM cards WHERE id = ?"),
                arguments: [cardID]
            )
            let standing = cardRow.flatMap { row -> CardStanding? in
                guard let category = CardCategory(rawValue: row[0]), let validUntil = CalendarDate(iso: row[1]) else { return nil }
                return CardStanding(cardID: cardID, category: category, validUntil: validUntil, revoked: row[2] == "revoked")
            }
            return (merchant, standing)
        }
    }

    /// Verifications still relevant after a restart: valid uses of unexpired codes, and nonces since `since`.
    public func recentVerifications(now: Date, noncesSince since: Date) async throws -> [VerificationEntry] {
        try await dbWriter.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response
                    FROM verifications
                    WHERE (valid = 1 AND code_expires_at > ?) OR (nonce IS NOT NULL AND created_at >= ?)
                    ORDER BY id
                    """,
                arguments: [Int(now.timeIntervalSince1970), Timestamp.iso(since)]
            )
            return rows.map { row in
                VerificationEntry(
                    id: row[0],
                    merchantID: row[1],
                    cardID: row[2],
                    codeID: row[3],
                    keyID: row[4],
                    valid: row[5],
                    reason: row[6],
                    nonce: row[7],
                    codeExpiresAt: row[8],
                    createdAt: row[9],
                    response: row[10]
                )
            }
        }
    }

    /// How many verifications are on record (reports and tests).
    public func verificationCount() throws -> Int {
        try dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM verifications") ?? 0 }
    }

    /// The most recent verification records, newest first.
    public func latestVerifications(limit: Int) throws -> [VerificationEntry] {
        try dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response
                    FROM verifications ORDER BY id DESC LIMIT ?
                    """,
                arguments: [limit]
            ).map { row in
                VerificationEntry(
                    id: row[0],
                    merchantID: row[1],
                    cardID: row[2],
                    codeID: row[3],
                    keyID: row[4],
                    valid: row[5],
                    reason: row[6],
                    nonce: row[7],
                    codeExpiresAt: row[8],
                    createdAt: row[9],
                    response: row[10]
                )
            }
        }
    }
}
