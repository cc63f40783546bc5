import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// The bureau's writes on the PostgreSQL store, each with its audit entry in the same transaction — the same audited
/// write path as on SQLite (`AppDatabase.write(audit:…)`): the entry is chained to the last under an advisory lock (two
/// admins on two machines append one after the other), and the head file is sealed only after the commit.
extension PostgresStore: AdminStore {
    static let auditLock: Int64 = 0x594A_4155_4449_54  // "YJAUDIT"

    func audited<T: Sendable>(
        _ audit: AuditContext?,
        now: Date,
        _ note: AuditNote,
        _ body: (PostgresConnection, inout AuditNote) async throws -> T
    ) async throws -> T {
        let logger = logger
        let (result, head) = try await client.inTransaction(logger: logger) { connection -> (T, AuditHead?) in
            var note = note
            let result = try await body(connection, &note)
            guard let audit else { return (result, nil) }
            return (result, try await Self.appendAudit(connection, audit, note, now: now, logger: logger))
        }
        if let audit, let head {
            audit.sealAfterCommit(head)
            if let failure = audit.takeSealFailure() { throw failure }
        }
        return result
    }

    static func appendAudit(
        _ connection: PostgresConnection,
        _ audit: AuditContext,
        _ note: AuditNote,
        now: Date,
        logger: Logger
    ) async throws
        -> AuditHead
    {
        try await connection.query("SELECT pg_advisory_xact_lock(\(auditLock))", logger: logger)
        let last = try await connection.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", logger: logger).collect().first
        var (lastSeq, previousHash): (Int64, String) = (0, "")
        if let last { (lastSeq, previousHash) = try last.decode((Int64, String).self) }
        let entry = try audit.entry(after: lastSeq, lastHash: previousHash, note: note, now: now)
        try await connection.query(
            """
            INSERT INTO audit_log (seq, at, operator, action, subject, details, previous_hash, hash)
            VALUES (\(entry.seq), \(entry.at), \(entry.operatorName), \(entry.action), \(entry.subject), \(entry.details),
                \(entry.previousHash), \(entry.hash))
            """,
            logger: logger
        )
        return AuditHead(count: entry.seq, lastHash: entry.hash)
    }

    /// Revokes card `cardNo` (every instance refuses its codes from its next verification group on).
    public func revokeCard(number cardNo: String, reason: String, now: Date, audit: AuditContext?) async throws {
        let logger = logger
        try await audited(audit, now: now, AuditNote(action: "cards.revoke", subject: cardNo, details: ["reason": reason])) { connection, _ in
            guard let card = try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger) else {
                throw RegisterError.cardNotFound(cardNo)
            }
            guard !card.isRevoked else { throw RegisterError("card \(cardNo) is already revoked (since \(card.revokedAt ?? "?"))") }
            let stamp = Timestamp.iso(now)
            try await connection.query(
                """
                UPDATE cards SET status = 'revoked', revoked_at = \(stamp), revoke_reason = \(reason), updated_at = \(stamp)
                WHERE id = \(card.id)
                """,
                logger: logger
            )
        }
    }

    /// Suspends, reinstates or revokes shop `id`, by the same rule as on SQLite (`Merchant.checkStatusChange`).
    @discardableResult
    public func changeMerchantStatus(
        id: Int64,
        to status: Merchant.Status,
        reason: String?,
        now: Date,
        audit: AuditContext?
    ) async throws
        -> Merchant
    {
        let logger = logger
        return try await audited(audit, now: now, Merchant.statusChangeNote(id: id, to: status, reason: reason)) { connection, _ in
            let row = try await connection.query("SELECT row_to_json(merchants)::text FROM merchants WHERE id = \(id) FOR UPDATE", logger: logger)
                .collect().first
            guard var merchant = try row.map({ try Self.decodeRecord(Merchant.self, $0) }) else { throw RegisterError.merchantNotFound(id) }
            try merchant.checkStatusChange(to: status)
            merchant.status = status
            merchant.statusReason = reason
            merchant.statusChangedAt = Timestamp.iso(now)
            try await connection.query(
                """
                UPDATE merchants SET status = \(status.rawValue), status_reason = \(reason), status_changed_at = \(merchant.statusChangedAt)
                WHERE id = \(id)
                """,
                logger: logger
            )
            return merchant
        }
    }

    public func card(number cardNo: String) async throws -> Card? {
        try await client.withConnection { connection in
            try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger)
        }
    }

    public func holderAccountStatus(cardNo: String) async throws -> HolderAccountStatus? {
        let account = try await client.query(
            """
            SELECT activation_issued_at, activated_at FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id
            WHERE cards.card_no = \(cardNo)
            """,
            logger: logger
        ).collect().first.map { try $0.decode((String?, String?).self) }
        let guardRow = try await client.query(
            "SELECT failures, locked_until, lock_level FROM sign_in_guards WHERE card_no = \(cardNo)",
            logger: logger
        ).collect().first.map { try $0.decode((Int64, String?, Int64).self) }
        guard account != nil || guardRow != nil else { return nil }
        return HolderAccountStatus(
            activationIssuedAt: account?.0,
            activatedAt: account?.1,
            failedAttempts: Int(guardRow?.0 ?? 0),
            lockedUntil: guardRow?.1,
            lockLevel: Int(guardRow?.2 ?? 0)
        )
    }

    public func issueActivation(cardNo: String, code: String, now: Date, audit: AuditContext?) async throws {
        let logger = logger
        try await audited(audit, now: now, AuditNote(action: "cards.activation", subject: cardNo)) { connection, _ in
            guard let card = try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger) else {
                throw RegisterError.cardNotFound(cardNo)
            }
            guard !card.isRevoked else { throw RegisterError("card \(cardNo) is revoked; no activation code can be issued") }
            let hash = HolderSecret.digest(HolderSecret.normalizedActivationCode(code))
            try await connection.query(
                """
                INSERT INTO holder_accounts (card_id, activation_hash, activation_issued_at, pin_hash, activated_at, failed_attempts, locked_until)
                VALUES (\(card.id), \(hash), \(Timestamp.iso(now)), NULL, NULL, 0, NULL)
                ON CONFLICT (card_id) DO UPDATE SET activation_hash = excluded.activation_hash,
                    activation_issued_at = excluded.activation_issued_at, pin_hash = NULL, activated_at = NULL,
                    failed_attempts = 0, locked_until = NULL
                """,
                logger: logger
            )
            try await connection.query("DELETE FROM holder_sessions WHERE card_id = \(card.id)", logger: logger)
            try await connection.query("DELETE FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger)
        }
    }

    public func unlockHolder(cardNo: String, now: Date, audit: AuditContext?) async throws {
        let logger = logger
        try await audited(audit, now: now, AuditNote(action: "cards.unlock", subject: cardNo)) { connection, _ in
            guard try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger) != nil else {
                throw RegisterError.cardNotFound(cardNo)
            }
            try await connection.query("DELETE FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger)
        }
    }

    public func addMerchant(
        name: String,
        industry: Industry,
        address: String?,
        benefit: String?,
        now: Date,
        audit: AuditContext?
    ) async throws
        -> Merchant
    {
        let logger = logger
        let note = AuditNote(action: "merchants.add", details: ["name": name, "industry": industry.rawValue])
        return try await audited(audit, now: now, note) { connection, note in
            let stamp = Timestamp.iso(now)
            let row = try await connection.query(
                """
                INSERT INTO merchants (name, industry, address, benefit, status, created_at)
                VALUES (\(name), \(industry.rawValue), \(address), \(benefit), 'active', \(stamp)) RETURNING id
                """,
                logger: logger
            ).collect().first
            let id = try row?.decode(Int64.self) ?? 0
            // A new shop's 优惠内容 is its first rule, for every holder (as `BenefitRule.startingRules` on SQLite).
            if let text = benefit?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                try await connection.query(
                    "INSERT INTO benefit_rules (merchant_id, position, categories, benefit, once_per_day) VALUES (\(id), 0, NULL, \(text), 0)",
                    logger: logger
                )
            }
            note.subject = "merchant \(id)"
            let stored = try await connection.query("SELECT row_to_json(merchants)::text FROM merchants WHERE id = \(id)", logger: logger)
                .collect().first
            guard let stored else { throw RegisterError.merchantNotFound(id) }
            return try Self.decodeRecord(Merchant.self, stored)
        }
    }

    public func replaceMerchantKey(merchantID: Int64, with key: MerchantAPIKey, now: Date, audit: AuditContext?) async throws {
        let logger = logger
        let note = AuditNote(action: "merchants.key", subject: "merchant \(merchantID)", details: ["keyId": key.keyID])
        try await audited(audit, now: now, note) { connection, _ in
            let status = try await connection.query("SELECT status FROM merchants WHERE id = \(merchantID) FOR UPDATE", logger: logger)
                .collect().first?.decode(String.self)
            guard let status else { throw RegisterError.merchantNotFound(merchantID) }
            guard status != Merchant.Status.revoked.rawValue else {
                throw RegisterError("merchant \(merchantID) is revoked; a revoked merchant cannot get a key")
            }
            let stamp = Timestamp.iso(now)
            try await connection.query(
                "UPDATE merchants SET api_key_id = \(key.keyID), api_key_hash = \(key.secretHash), api_key_issued_at = \(stamp) WHERE id = \(merchantID)",
                logger: logger
            )
            // Cashier devices signed in with the old key stop with it.
            try await connection.query(
                "UPDATE shop_devices SET revoked_at = \(stamp) WHERE merchant_id = \(merchantID) AND revoked_at IS NULL",
                logger: logger
            )
        }
    }
}
