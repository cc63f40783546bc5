import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// The audit log's list and reseal, and signing keys' entries, on PostgreSQL: every entry goes through the same
/// audited path as the register's writes (`audited`), the rules are YongjunStorage's.
extension PostgresStore: RecordsStore {
    public func auditEntries(limit: Int?) async throws -> [AuditEntry] {
        try await client.withConnection { connection in try await Self.auditEntries(connection, limit: limit, logger: logger) }
    }

    /// Entries in `seq` order, optionally only the last `limit`.
    static func auditEntries(_ connection: PostgresConnection, limit: Int? = nil, logger: Logger) async throws -> [AuditEntry] {
        // SQLite reads `LIMIT -1` as no limit, and `audit list --limit -1` has always listed everything there.
        let query: PostgresQuery =
            if let limit, limit >= 0 {
                """
                SELECT seq, at, operator, action, subject, details, previous_hash, hash FROM (
                    SELECT seq, at, operator, action, subject, details, previous_hash, hash FROM audit_log ORDER BY seq DESC LIMIT \(Int64(limit))
                ) AS last ORDER BY seq
                """
            } else {
                "SELECT seq, at, operator, action, subject, details, previous_hash, hash FROM audit_log ORDER BY seq"
            }
        var entries: [AuditEntry] = []
        for try await (seq, at, name, action, subject, details, previousHash, hash) in try await connection.query(query, logger: logger).decode(
            (Int64, String, String, String, String, String, String, String).self
        ) {
            entries.append(
                AuditEntry(
                    seq: seq,
                    at: at,
                    operatorName: name,
                    action: action,
                    subject: subject,
                    details: details,
                    previousHash: previousHash,
                    hash: hash
                )
            )
        }
        return entries
    }

    public func recordAudit(_ audit: AuditContext, _ note: AuditNote, now: Date) async throws {
        try await audited(audit, now: now, note) { _, _ in }
    }

    public func resealAudit(_ audit: AuditContext, now: Date) async throws -> (before: AuditSeal, head: AuditHead) {
        let before = audit.seal
        let logger = logger
        // The chain is read under the audit lock, so no entry lands between the check and the reseal's own entry.
        let head = try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.auditLock))", logger: logger)
            let note = try audit.resealNote(before: before, checking: try await Self.auditEntries(connection, logger: logger))
            return try await Self.appendAudit(connection, audit, note, now: now, logger: logger)
        }
        try audit.finishReseal(at: head)
        return (before, head)
    }

    /// The key file is written inside the entry's transaction and removed if it does not commit, as on SQLite; a
    /// head that cannot be sealed after the commit is reported, and the committed key stays.
    public func addSigningKey(to keys: KeyStore, first: Bool, now: Date, audit: AuditContext) async throws -> SigningKey {
        let (key, note) = try keys.newSigningKey(first: first, now: now)
        let logger = logger
        let head: AuditHead
        do {
            head = try await client.inTransaction(logger: logger) { connection in
                let head = try await Self.appendAudit(connection, audit, note, now: now, logger: logger)
                try keys.save(key)
                return head
            }
        } catch {
            keys.discard(key.kid)
            throw error
        }
        audit.sealAfterCommit(head)
        if let failure = audit.takeSealFailure() { throw failure }
        return key
    }
}
