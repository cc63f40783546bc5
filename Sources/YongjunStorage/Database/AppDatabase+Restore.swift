import Foundation
import GRDB
import YongjunCore

/// Everything a restore checks before it replaces anything, one line per check.
public struct BackupCheck: Sendable {
    public struct Line: Sendable {
        public let passed: Bool
        public let text: String
    }

    public let report: BackupReport
    public let lines: [Line]
    /// False for a backup made before backups were sealed: entries cut off its end cannot be noticed.
    public let sealed: Bool

    /// Every check passed; `allowingUnsealed` excuses only the missing seal of an old backup.
    public func passed(allowingUnsealed: Bool) -> Bool {
        lines.allSatisfy { $0.passed } || (allowingUnsealed && !sealed && lines.filter { !$0.passed }.count == 1)
    }
}

extension AppDatabase {
    /// Checks a backup against this data folder's keys: SQLite integrity, migrations this version knows, the seal,
    /// the audit chain, the register's state against its log, and that every signing key its log created is in
    /// the key ring (`keyIDs`). Unreadable files and unknown schemas throw; everything else is a line.
    public static func checkBackup(_ path: String, audit: AuditContext, keyIDs: [String]) throws -> BackupCheck {
        let queue = try openBackup(path)
        defer { try? queue.close() }
        return try queue.read { db in
            let report = try basicCheck(db, path: path)
            var lines = [
                BackupCheck.Line(passed: true, text: "integrity ok"),
                BackupCheck.Line(passed: true, text: "migrations known"),
            ]
            let sealText = try db.tableExists("backup_seal") ? try String.fetchOne(db, sql: "SELECT head FROM backup_seal LIMIT 1") : nil
            let seal = sealText.map { audit.chain.readSeal($0) }
            if seal == nil {
                lines.append(
                    BackupCheck.Line(
                        passed: false,
                        text: "seal missing: this backup was made before Yongjun sealed its backups, so entries cut off the end of its "
                            + "audit log cannot be noticed; if the other checks pass and you trust the file, restore it with --allow-unsealed"
                    )
                )
            }
            let verification = try verifyAudit(db, chain: audit.chain, seal: seal ?? .missing, keyIDs: [])
            if let problem = verification.chain, !(seal == nil && problem.kind == .head) {
                let hint = problem.seq == 1 ? " (or the backup belongs to a different keys/audit.key)" : ""
                lines.append(BackupCheck.Line(passed: false, text: AuditVerification.line(for: problem) + hint))
            } else {
                lines.append(
                    BackupCheck.Line(passed: true, text: "audit log intact: \(verification.entries) entries" + (seal == nil ? "" : ", sealed"))
                )
            }
            if verification.state.isEmpty {
                let rows = verification.checkedRows
                lines.append(
                    BackupCheck.Line(
                        passed: true,
                        text: "state matches the audit log: \(rows.merchants) merchants, \(rows.cards) cards, \(rows.applications) applications"
                    )
                )
            } else {
                lines += verification.state.map { BackupCheck.Line(passed: false, text: "state differs from the audit log: \($0)") }
            }
            let missing = verification.auditedKeys.subtracting(keyIDs).sorted()
            if missing.isEmpty {
                lines.append(
                    BackupCheck.Line(passed: true, text: "keys match: its \(verification.auditedKeys.count) signing key(s) are in the key ring")
                )
            } else {
                lines.append(
                    BackupCheck.Line(
                        passed: false,
                        text:
                            "keys missing from keys/signing: \(missing.joined(separator: ", ")); restore keys/ from the key backup made with this database first"
                    )
                )
            }
            return BackupCheck(report: report, lines: lines, sealed: seal != nil)
        }
    }

    /// Replaces the live database's content with a backup once `checkBackup` passed, records the restore in the
    /// (restored) audit log and seals the head at it. The server must be stopped.
    public func restore(from path: String, audit: AuditContext, keyIDs: [String], allowUnsealed: Bool, now: Date) throws -> BackupCheck {
        let check = try Self.checkBackup(path, audit: audit, keyIDs: keyIDs)
        guard check.passed(allowingUnsealed: allowUnsealed) else { throw RestoreRefused(path: path, check: check) }
        let source = try Self.openBackup(path)
        defer { try? source.close() }
        try source.backup(to: dbWriter)
        try Self.migrator.migrate(dbWriter)
        registerCache.invalidate()
        let details = ["sealed": check.sealed ? "yes" : "no (allowed by --allow-unsealed)"]
        let head = try dbWriter.write { db in
            // The seal described the file; the live database's end is sealed by audit.head instead.
            if try db.tableExists("backup_seal") { try db.execute(sql: "DELETE FROM backup_seal") }
            return try appendAudit(db, audit, AuditNote(action: "database.restore", subject: path, details: details), now: now)
        }
        // The head described the log that was just replaced (so the commit hook left it); it now describes this one.
        _ = audit.takeSealFailure()
        try audit.replaceHead(with: head)
        return check
    }
}

/// A restore refused because a check failed; nothing was changed.
public struct RestoreRefused: UserFacingError, Sendable {
    public let path: String
    public let check: BackupCheck

    public var description: String {
        "\(path) failed \(check.lines.filter { !$0.passed }.count) check(s); nothing was restored"
    }
}
