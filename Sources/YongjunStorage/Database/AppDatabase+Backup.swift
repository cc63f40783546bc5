import Foundation
import GRDB
import YongjunCore

/// What a backup or restore found.
public struct BackupReport: Sendable {
    public let path: String
    public let bytes: Int
    public let cards: Int
    public let merchants: Int
    public let verifications: Int
    public let auditEntries: Int
}

extension AppDatabase {
    /// A consistent copy of the live database at `path` (SQLite online backup API; the server may keep running),
    /// sealed with the audit key so a restore can tell entries cut off its end, and checked with
    /// `PRAGMA integrity_check`. The copy is built in a new owner-only file (O_EXCL, O_NOFOLLOW, mode 0600 from
    /// its first byte) under a temporary name, then linked into place: `path` is never a symlink followed, never
    /// an existing file overwritten, never a half-written file. Returns a warning when the live log is broken.
    public func backup(to path: String, audit: AuditContext, now: Date) throws -> (report: BackupReport, warning: String?) {
        var info = stat()
        if lstat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK {
                throw RegisterError("\(path) is a symbolic link; backups are written only as a new plain file, never through a link")
            }
            throw RegisterError("\(path) already exists; choose a new file name so no backup is overwritten")
        }
        // Read before the copy: commits only add entries, so one that lands meanwhile cannot look like a cut.
        let liveSeal = audit.seal
        let folder = (path as NSString).deletingLastPathComponent
        let temporary =
            (folder.isEmpty ? "." : folder) + "/.\((path as NSString).lastPathComponent).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw RegisterError("cannot create a file in \(folder.isEmpty ? "." : folder): \(String(cString: strerror(errno)))")
        }
        fchmod(descriptor, 0o600)
        close(descriptor)
        do {
            let copy = try DatabaseQueue(path: temporary)
            try dbWriter.backup(to: copy)
            // One self-contained file: no WAL beside it. SQLite gives its rollback journal the file's own mode.
            try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            let warning = try copy.write { db -> String? in
                let entries = try Self.auditEntries(db)
                let head = AuditHead(count: Int64(entries.count), lastHash: entries.last?.hash ?? "")
                try db.execute(sql: "DELETE FROM backup_seal")
                try db.execute(
                    sql: "INSERT INTO backup_seal (sealed_at, head) VALUES (?, ?)",
                    arguments: [Timestamp.iso(now), audit.chain.sealText(head)]
                )
                guard let problem = audit.chain.firstProblem(in: entries, seal: liveSeal), problem.kind != .unsealedTail else { return nil }
                return "the live audit log is broken at entry \(problem.seq) (\(problem.reason)); this backup carries it as it is"
            }
            try copy.close()
            try Self.syncFile(temporary)
            let report = try Self.basicCheck(temporary)
            guard link(temporary, path) == 0 else {
                throw RegisterError("cannot create \(path): \(String(cString: strerror(errno))); nothing was written there")
            }
            unlink(temporary)
            SecretFile.syncFolder(of: path)
            return (report.renamed(path), warning)
        } catch {
            unlink(temporary)
            unlink(temporary + "-journal")
            throw error
        }
    }

    private static func syncFile(_ path: String) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw RegisterError("cannot reopen \(path) to flush it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw RegisterError("cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// Opens a backup file read-only for checks.
    static func openBackup(_ path: String) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw RegisterError("no backup file at \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw RegisterError("\(path) is not a SQLite database: \(error)")
        }
    }

    /// SQLite integrity and a schema this version knows; the counts a backup or restore reports.
    static func basicCheck(_ path: String) throws -> BackupReport {
        let queue = try openBackup(path)
        defer { try? queue.close() }
        return try queue.read { db in try basicCheck(db, path: path) }
    }

    static func basicCheck(_ db: Database, path: String) throws -> BackupReport {
        let integrity = (try? String.fetchAll(db, sql: "PRAGMA integrity_check")) ?? ["unreadable"]
        guard integrity == ["ok"] else {
            throw RegisterError("\(path) fails SQLite's integrity check: \(integrity.prefix(3).joined(separator: "; "))")
        }
        let applied = Set((try? String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")) ?? [])
        let known = Set(migrator.migrations)
        guard !applied.isEmpty, applied.isSubset(of: known) else {
            throw RegisterError(
                "\(path) is not a Yongjun database this version knows (migrations: \(applied.sorted().joined(separator: ", "))); "
                    + "restore it with the Yongjun version that made it"
            )
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return BackupReport(
            path: path,
            bytes: size,
            cards: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cards") ?? 0,
            merchants: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM merchants") ?? 0,
            verifications: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM verifications") ?? 0,
            auditEntries: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0
        )
    }
}

extension BackupReport {
    func renamed(_ path: String) -> BackupReport {
        BackupReport(path: path, bytes: bytes, cards: cards, merchants: merchants, verifications: verifications, auditEntries: auditEntries)
    }
}
