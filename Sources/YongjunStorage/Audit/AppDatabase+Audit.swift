import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Runs `body` in a write transaction and, when `audit` is given, appends its note to the audit log in the
    /// same transaction: the action and its record commit together or not at all. The head is sealed after the
    /// commit (see `appendAudit`), so a commit that fails never leaves a head counting an entry that is not there.
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
        let result = try dbWriter.write { db in
            var note = note
            let result = try body(db, &note)
            if let audit { try appendAudit(db, audit, note, now: now) }
            return result
        }
        if let failure = audit?.takeSealFailure() { throw failure }
        return result
    }

    /// Appends one entry chained to the last; runs inside the caller's write transaction, and seals the head at
    /// it once that transaction commits (never before, never on rollback), whichever write appended it.
    @discardableResult
    func appendAudit(_ db: Database, _ audit: AuditContext, _ note: AuditNote, now: Date) throws -> AuditHead {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let entry = try audit.entry(after: last?[0] ?? 0, lastHash: last?[1] ?? "", note: note, now: now)
        try db.execute(
            sql: "INSERT INTO audit_log (seq, at, operator, action, subject, details, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [entry.seq, entry.at, entry.operatorName, entry.action, entry.subject, entry.details, entry.previousHash, entry.hash]
        )
        let head = AuditHead(count: entry.seq, lastHash: entry.hash)
        db.afterNextTransaction { _ in audit.sealAfterCommit(head) }
        return head
    }

    /// Appends a standalone audit entry (for actions that change no row, such as printing credentials).
    public func recordAudit(_ audit: AuditContext, _ note: AuditNote, now: Date) throws {
        try write(audit: audit, now: now, note) { _, _ in }
    }

    /// Audit entries in order, optionally only the last `limit`.
    public func auditEntries(limit: Int? = nil) throws -> [AuditEntry] {
        try dbWriter.read { db in try Self.auditEntries(db, limit: limit) }
    }

    static func auditEntries(_ db: Database, limit: Int? = nil) throws -> [AuditEntry] {
        let sql = "SELECT seq, at, operator, action, subject, details, previous_hash, hash FROM audit_log ORDER BY seq"
        let request = limit.map { _ in "SELECT * FROM (\(sql) DESC LIMIT ?) ORDER BY seq" } ?? sql
        let rows = try Row.fetchCursor(db, sql: request, arguments: limit.map { [$0] } ?? [])
        var entries: [AuditEntry] = []
        while let row = try rows.next() {
            entries.append(
                AuditEntry(
                    seq: row[0],
                    at: row[1],
                    operatorName: row[2],
                    action: row[3],
                    subject: row[4],
                    details: row[5],
                    previousHash: row[6],
                    hash: row[7]
                )
            )
        }
        return entries
    }
}
