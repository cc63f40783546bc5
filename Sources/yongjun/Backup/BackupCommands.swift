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
            Uses SQLite's online backup API, so the copy is consistent even under load. The file is created
            owner-only (0600) from its first byte under a temporary name, never through a symlink, and its audit
            log is sealed with the audit key so `restore` notices entries cut off its end. Keys are not in the
            database: back up the keys/ folder separately (see deploy/OPERATIONS.md). With the register in
            PostgreSQL (YONGJUN_DATABASE), use pg_dump -Fc instead; this command then says so and stops.

            Example: yongjun --data-dir /var/lib/yongjun backup /var/backups/yongjun/yongjun-$(date +%F).sqlite
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The new backup file (must not exist).") var path: String

    func run() async throws {
        try PostgresBackupRefusal.refuseIfNamed("backup", databaseURL: global.databaseURL, keysPath: global.keyStore.path)
        let (report, warning) = try global.openDatabase().backup(to: path, audit: try global.audit(), now: Date())
        print(
            "backup written to \(report.path): \(report.bytes) bytes, integrity ok, \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications, \(report.auditEntries) audit entries sealed"
        )
        if let warning { FileHandle.standardError.write(Data("yongjun: warning: \(warning)\n".utf8)) }
    }
}

/// `yongjun restore PATH`: put a checked backup back, with the server stopped.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Check a backup and replace the database's content with it (stop the server first).",
        discussion: """
            Checks before it replaces anything: SQLite integrity, migrations this version knows, the backup's seal,
            its audit chain, the register's state against its audit log, and that its signing keys are in keys/.
            Refuses if any check fails, and while `yongjun serve` runs on the data directory. --check-only prints
            every check and changes nothing. Restore keys/ from its own backup first. With the register in
            PostgreSQL (YONGJUN_DATABASE), use pg_restore instead; this command then says so and stops.

            Example: yongjun --data-dir /var/lib/yongjun restore /var/backups/yongjun/yongjun-2026-11-28.sqlite
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The backup file.") var path: String
    @Flag(help: "Only check the backup file; change nothing.") var checkOnly = false
    @Flag(help: "Accept a backup made before backups were sealed (its audit log's end cannot be checked).") var allowUnsealed = false

    func run() async throws {
        try PostgresBackupRefusal.refuseIfNamed("restore", databaseURL: global.databaseURL, keysPath: global.keyStore.path)
        // `keys init` here would make a new audit key that cannot check the backup's log: say what to restore first.
        guard global.keyStore.isInitialized else {
            throw CLIFailure(
                message: "no keys in \(global.keyStore.path); restore keys/ from the key backup made with this database first, then run restore again"
            )
        }
        let audit = try global.audit()
        let keyIDs = global.keyStore.signingKeyIDs()
        if checkOnly {
            let check = try AppDatabase.checkBackup(path, audit: audit, keyIDs: keyIDs)
            let report = check.report
            print("\(path): integrity ok, \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications")
            for line in check.lines { printLine((line.passed ? "ok      " : "FAILED  ") + line.text) }
            guard check.passed(allowingUnsealed: allowUnsealed) else {
                throw CLIFailure(message: "\(path) would be refused: \(check.lines.filter { !$0.passed }.count) check(s) failed")
            }
            return
        }
        try global.dataDirectory.prepare()
        guard let lock = ServeLock.acquire(global.dataDirectory) else {
            throw CLIFailure(message: "a yongjun server is running on \(global.dataDirectory.path); stop it before restoring")
        }
        defer { lock.release() }
        do {
            let check = try global.openDatabase().restore(from: path, audit: audit, keyIDs: keyIDs, allowUnsealed: allowUnsealed, now: Date())
            let report = check.report
            print("restored \(path): \(report.cards) cards, \(report.merchants) merchants, \(report.verifications) verifications")
        } catch let refused as RestoreRefused {
            throw CLIFailure(message: refused.description, details: refused.check.lines.filter { !$0.passed }.map(\.text))
        }
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
