import Foundation
import GRDB
import Synchronization

/// Owns the SQLite database: opens it, migrates it, and offers the reads and writes that must stay consistent.
///
/// The server and the admin CLI open the same file, so it runs in WAL mode with a busy timeout; every commit is
/// fsynced (`synchronous = FULL`) because a shop's verification must survive a power cut once answered.
public struct AppDatabase: Sendable {
    let dbWriter: any DatabaseWriter
    /// Shops and cards as the verification path last read them; see `VerificationTransaction`.
    let registerCache = RegisterCache()
    /// Lets a stopping server give up waiting for another connection's write lock.
    let lockWait: LockWait

    /// Wraps an opened database and brings its schema up to date.
    public init(_ dbWriter: any DatabaseWriter, lockWait: LockWait = LockWait()) throws {
        self.dbWriter = dbWriter
        self.lockWait = lockWait
        try Self.migrator.migrate(dbWriter)
    }

    /// The database in `directory`, created on first use.
    public static func open(in directory: DataDirectory) throws -> AppDatabase {
        try directory.prepare()
        let isNew = !directory.exists
        let lockWait = LockWait()
        let pool = try DatabasePool(path: directory.databasePath, configuration: configuration(lockWait))
        // GRDB switches a pool to synchronous=NORMAL when it enables WAL, after `prepareDatabase` ran: NORMAL can lose
        // the last commits on power loss. Only the writer commits, and it keeps one connection, so set FULL there.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        if isNew { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.databasePath) }
        return try AppDatabase(pool, lockWait: lockWait)
    }

    /// A private database in memory, for tests.
    public static func inMemory() throws -> AppDatabase {
        let lockWait = LockWait()
        return try AppDatabase(DatabaseQueue(configuration: configuration(lockWait)), lockWait: lockWait)
    }

    static func configuration(_ lockWait: LockWait) -> Configuration {
        var config = Configuration()
        // SQLite's own busy timeout sleeps in growing steps (up to 100 ms) while another connection writes; a
        // verification group waiting behind an import chunk would then idle long after the lock is free. Poll every
        // millisecond instead, for about ten seconds in all, unless the process is being stopped.
        config.busyMode = .callback { tries in
            guard !lockWait.abandoned.load(ordering: .relaxed) else { return false }
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

/// Shared by a database's connections: once set, a connection waiting for another's write lock stops waiting.
public final class LockWait: Sendable {
    let abandoned = Atomic<Bool>(false)

    public init() {}
}

extension AppDatabase {
    /// Makes every wait for the write lock fail at once (the server is being cancelled: a write stuck behind
    /// another process's transaction must not keep it from exiting).
    public func abandonLockWaits() {
        lockWait.abandoned.store(true, ordering: .relaxed)
    }

    /// Nothing is held between groups: the writer connection belongs to GRDB's pool.
    public func verificationLogStopped() async {}
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
