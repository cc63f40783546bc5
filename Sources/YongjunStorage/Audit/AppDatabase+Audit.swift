import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Runs `body` in a write transaction and, when `audit` is given, appends its note to the audit log in the
    /// same transaction: the action and its record commit together or not at all.
    ///
    /// Admin writes may change a shop's or card's standing; this process's own commits do not move SQLite's
    /// `data_version`, so the verification path's register cache is emptied here, once, for all of them.
    func write<T>(
        audit: AuditContext?,
        now: Date,
        _ note: AuditNote,
        _ body: (Database, inout AuditNote) throws -> T
    ) throws -> T {
        defer { registerCache.invalidate() }
        return try dbWriter.write { db in
            var note = note
            let result = try body(db, &note)
            if let audit { try appendAudit(db, audit, note, now: now) }
            return result
        }
    }

    /// Appends one entry chained to the last; runs inside the caller's write transaction.
    func appendAudit(_ db: Database, _ audit: AuditContext, _ note: AuditNote, now: Date) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?[0] ?? 0) + 1
        let previousHash: String = last?[1] ?? ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let details = String(decoding: try encoder.encode(note.details), as: UTF8.self)
        let at = Timestamp.iso(now)
        let hash = audit.chain.hash(
            seq: seq,
            at: at,
            operatorName: audit.operatorName,
            action: note.action,
            subject: note.subject,
            details: details,
            previousHash: previousHash
        )
        try db.execute(
            sql: "INSERT INTO audit_log (seq, at, operator, action, subject, details, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [seq, at, audit.operatorName, note.action, note.subject, details, previousHash, hash]
        )
        // Written while the write lock is held, so concurrent admin commands cannot reorder it.
        try audit.recordCount(seq)
    }

    /// Audit entries in order, optionally only the last `limit`.
    public func auditEntries(limit: Int? = nil) throws -> [AuditEntry] {
        try dbWriter.read { db in
            let sql = "SELECT seq, at, operator, action, subject, details, previous_hash, hash FROM audit_log ORDER BY seq"
            let rows = try Row.fetchAll(db, sql: limit.map { "SELECT * FROM (\(sql) DESC LIMIT \($0)) ORDER BY seq" } ?? sql)
            return rows.map {
                AuditEntry(
                    seq: $0[0],
                    at: $0[1],
                    operatorName: $0[2],
                    action: $0[3],
                    subject: $0[4],
                    details: $0[5],
                    previousHash: $0[6],
                    hash: $0[7]
                )
            }
        }
    }

    /// The first break in the audit chain, or nil when every entry is as written.
    public func verifyAudit(_ audit: AuditContext) throws -> AuditProblem? {
        audit.chain.firstProblem(in: try auditEntries(), expectedCount: audit.recordedCount)
    }
}
