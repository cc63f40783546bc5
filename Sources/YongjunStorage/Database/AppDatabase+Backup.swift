import Foundation
import GRDB

/// What a backup or restore found.
public struct BackupReport: Sendable {
    public let path: String
    public let bytes: Int
    public let cards: Int
    public let merchants: Int
    public let verifications: Int
}

extension AppDatabase {
    /// A consistent copy of the live database at `path` (SQLite online backup API; the server may keep running),
    /// checked with `PRAGMA integrity_check` and left owner-only.
    public func backup(to path: String) throws -> BackupReport {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw RegisterError("\(path) already exists; choose a new file name so no backup is overwritten")
        }
        let copy = try DatabaseQueue(path: path)
        try dbWriter.backup(to: copy)
        try copy.close()
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return try Self.check(path)
    }

    /// Checks a backup file: SQLite integrity, and a schema this version knows.
    public static func check(_ path: String) throws -> BackupReport {
        guard FileManager.default.fileExists(atPath: path) else { throw RegisterError("no backup file at \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw RegisterError("\(path) is not a SQLite database: \(error)")
        }
        defer { try? queue.close() }
        return try queue.read { db in
            let integrity = (try? String.fetchAll(db, sql: "PRAGMA integrity_check")) ?? ["unreadable"]
            guard integrity == ["ok"] else {
                throw RegisterError("\(path) fails SQLite's integrity check: \(integrity.prefix(3).joined(separator: "; "))")
            }
            let applied = Set(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            let known = Set(migrator.migrations)
            guard !applied.isEmpty, applied.isSubset(of: known) else {
                throw RegisterError("\(path) is not a Yongjun database of this version (migrations: \(applied.sorted().joined(separator: ", ")))")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return BackupReport(
                path: path,
                bytes: size,
                cards: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cards") ?? 0,
                merchants: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM merchants") ?? 0,
                verifications: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM verifications") ?? 0
            )
        }
    }

    /// Replaces the live database's content with a checked backup. The server must be stopped.
    public func restore(from path: String) throws -> BackupReport {
        let report = try Self.check(path)
        let source = try DatabaseQueue(
            path: path,
            configuration: {
                var c = Configuration()
                c.readonly = true
                return c
            }()
        )
        defer { try? source.close() }
        try source.backup(to: dbWriter)
        try Self.migrator.migrate(dbWriter)
        registerCache.invalidate()
        return report
    }
}
