import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun backup PATH`: an online, consistent copy of the database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to a new file while the server keeps running, then check the copy.",
        discussion: """
            Uses SQLite's online backup API, so the copy is consistent even under load. Keys are not in the
            database: back up the keys/ folder separately (see deploy/OPERATIONS.md).

            Example: yongjun --data-dir /var/lib/yongjun backup /var/backups/yongjun/yongjun-$(date +%F).sqlite
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new backup file (must not exist).") var path: String

    func run() async throws {
        let report = try global.openDatabase().backup(to: path)
        print(
            "backup written to \(report.path): \(report.bytes) bytes, integrity ok, \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications"
        )
    }
}

/// `yongjun restore PATH`: put a checked backup back, with the server stopped.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Check a backup and replace the database's content with it (stop the server first).",
        discussion: """
            Refuses a file that fails SQLite's integrity check or is not a Yongjun database of this version,
            and refuses while `yongjun serve` runs on the data directory. Restore keys/ from its own backup.

            Example: yongjun --data-dir /var/lib/yongjun restore /var/backups/yongjun/yongjun-2026-11-28.sqlite
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup file.") var path: String
    @Flag(help: "Only check the backup file; change nothing.") var checkOnly = false

    func run() async throws {
        if checkOnly {
            let report = try AppDatabase.check(path)
            print("\(path): integrity ok, \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications")
            return
        }
        try global.dataDirectory.prepare()
        guard let lock = ServeLock.acquire(global.dataDirectory) else {
            throw CLIFailure(message: "a yongjun server is running on \(global.dataDirectory.path); stop it before restoring")
        }
        defer { lock.release() }
        let database = try global.openDatabase()
        let report = try database.restore(from: path)
        try database.recordAudit(try global.audit(), AuditNote(action: "database.restore", subject: path), now: Date())
        print("restored \(path): \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications")
    }
}

/// An exclusive lock on `<data dir>/serve.lock`, held by `serve` for its lifetime and briefly by `restore`.
final class ServeLock {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    static func acquire(_ directory: DataDirectory) -> ServeLock? {
        let descriptor = open(directory.path + "/serve.lock", O_RDWR | O_CREAT, 0o600)
        guard descriptor >= 0 else { return nil }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return ServeLock(descriptor: descriptor)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
