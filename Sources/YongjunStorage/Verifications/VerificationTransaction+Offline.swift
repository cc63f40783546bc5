import GRDB
import YongjunCore

/// An offline verification as the server keeps it: its own judgment in `entry` (valid, reason, use key), what the
/// device said, and the disagreement the bureau should look at.
public struct OfflineRecord: Sendable {
    public var entry: VerificationEntry
    /// `valid` or the reason the device gave.
    public var deviceResult: String
    public var conflict: String?
    public var receivedAt: String

    public init(entry: VerificationEntry, deviceResult: String, conflict: String?, receivedAt: String) {
        self.entry = entry
        self.deviceResult = deviceResult
        self.conflict = conflict
        self.receivedAt = receivedAt
    }
}

/// What an earlier upload of the same record was answered.
public struct StoredOfflineRecord: Sendable {
    public let verificationID: String
    public let serverResult: String
    public let conflict: String?

    package init(verificationID: String, serverResult: String, conflict: String?) {
        self.verificationID = verificationID
        self.serverResult = serverResult
        self.conflict = conflict
    }
}

extension SQLiteVerificationTransaction {
    /// A card as it stood: category, validity, and when it was revoked (for "revoked before `verifiedAt`").
    public func cardHistory(id cardID: String) throws -> (standing: CardStanding, revokedAt: String?)? {
        guard let standing = try cardStanding(id: cardID) else { return nil }
        let revokedAt = try String.fetchOne(db.cachedStatement(sql: "SELECT revoked_at FROM cards WHERE id = ?"), arguments: [cardID])
        return (standing, revokedAt)
    }

    /// When the shop's current status began (nil: since it was added).
    public func merchantStatusSince(id merchantID: Int64) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT status_changed_at FROM merchants WHERE id = ?"), arguments: [merchantID])
    }

    /// The earlier answer to this shop's offline record `nonce`, if it was uploaded before.
    public func storedOfflineRecord(merchantID: Int64, nonce: String) throws -> StoredOfflineRecord? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, valid, reason, conflict FROM verifications WHERE merchant_id = ? AND nonce = ? AND offline = 1"),
            arguments: [merchantID, nonce]
        )
        guard let row else { return nil }
        let valid: Bool = row[1]
        return StoredOfflineRecord(verificationID: row[0], serverResult: valid ? "valid" : (row[2] ?? "invalid"), conflict: row[3])
    }

    /// Inserts an offline record; false, inserting nothing, when its use key is already taken at this shop (the
    /// caller then records it again without the key, flagged `already_used_here`).
    public func recordOffline(_ record: OfflineRecord) throws -> Bool {
        let entry = record.entry
        try db.cachedStatement(
            sql: """
                INSERT INTO verifications
                    (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                     offline, device_result, conflict, received_at, eligible, benefit, benefit_rule)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING
                """
        ).execute(arguments: [
            entry.id, entry.merchantID, entry.cardID, entry.codeID, entry.keyID, entry.valid, entry.reason, entry.nonce,
            entry.codeExpiresAt, entry.createdAt, entry.response, entry.useKey, record.deviceResult, record.conflict, record.receivedAt,
            entry.eligible, entry.benefit, entry.benefitRule,
        ])
        return db.changesCount == 1
    }
}
