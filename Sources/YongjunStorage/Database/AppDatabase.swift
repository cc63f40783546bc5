import Foundation
import GRDB

/// Owns the SQLite database: opens it, migrates it, and offers the reads and writes that must stay consistent.
///
/// The server and the admin CLI open the same file, so it runs in WAL mode with a busy timeout; every commit is
/// fsynced (`synchronous = FULL`) because a shop's verification must survive a power cut once answered.
public struct AppDatabase: Sendable {
    let dbWriter: any DatabaseWriter
    /// Shops and cards as the verification path last read them; see `RegisterSnapshot`.
    let registerCache = RegisterCache()

    /// Wraps an opened database and brings its schema up to date.
    public init(_ dbWriter: any DatabaseWriter) throws {
        self.dbWriter = dbWriter
        try Self.migrator.migrate(dbWriter)
    }

    /// The database in `directory`, created on first use.
    public static func open(in directory: DataDirectory) throws -> AppDatabase {
        try directory.prepare()
        let isNew = !directory.exists
        let pool = try DatabasePool(path: directory.databasePath, configuration: configuration())
        // GRDB switches a pool to synchronous=NORMAL when it enables WAL, after `prepareDatabase` ran: NORMAL can lose
        // the last commits on power loss. Only the writer commits, and it keeps one connection, so set FULL there.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        if isNew { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.databasePath) }
        return try AppDatabase(pool)
    }

    /// A private database in memory, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    static func configuration() -> Configuration {
        var config = Configuration()
        // SQLite's own busy timeout sleeps in growing steps (up to 100 ms) while another connection writes; a
        // verification group waiting behind an import chunk would then idle long after the lock is free. Poll every
        // millisecond instead, for about ten seconds in all.
        config.busyMode = .callback { tries in
            usleep(1000)
            return tries < 10_000
        }
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return config
    }

    /// For reads that need no transaction with a write.
    public var reader: any DatabaseReader { dbWriter }
}

extension AppDatabase {
    /// `PRAGMA synchronous` of the connection that commits (2 = FULL); lets tests and `config show` prove durability.
    public func writerSynchronousMode() throws -> Int {
        try dbWriter.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }
}

extension AppDatabase {
    /// A trivial read, to tell that the database file answers (readiness checks).
    public func ping() async throws {
        _ = try await dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }
}
