import ArgumentParser
import Foundation
import Logging
import YongjunCore
import YongjunPostgres
import YongjunStorage

/// `yongjun store copy --from sqlite:PATH --to postgres://…`: the whole register into an empty PostgreSQL database.
struct StoreCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy every table of a SQLite data directory into an empty PostgreSQL database, and check the copy.",
        discussion: """
            Reads the SQLite database read-only (stop `yongjun serve` on it first), creates the schema in the target,
            refuses a target that already holds rows, and copies every table in one transaction. Then it compares
            the rows per table, the signing key ids, and re-verifies the audit log (chain, sealed head, state) on
            the copied rows with the data directory's audit key. Anything short of a full match rolls the copy back.
            Keys stay files: copy keys/ to every instance's data directory; the command lists them.

            Example: yongjun store copy --from sqlite:/var/lib/yongjun --to postgres://yongjun@db.internal/yongjun
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "sqlite:PATH, a data directory or its yongjun.sqlite (default: sqlite: and the data directory).")
    var from: String?
    @Option(help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir]")
    var to: String
    @Flag(help: "Print JSON (stable keys, for scripts).") var json = false

    func run() async throws {
        let directory = try sourceDirectory()
        guard !ServeLock.isHeld(directory) else {
            throw CLIFailure(message: "a yongjun server is running on \(directory.path); stop it first, or what it records later is not copied")
        }
        let target = try PostgresURL(to)
        let keyStore = KeyStore(directory: directory)
        let chain: AuditChain
        do {
            chain = try keyStore.auditChain()
        } catch {
            throw CLIFailure(
                message: "\(error); store copy re-verifies the audit log with keys/audit.key, so --from must name the data directory holding keys/"
            )
        }
        let seal = AuditContext(operatorName: global.resolvedOperator, chain: chain, directory: directory).seal
        let export = try AppDatabase.openForExport(path: directory.databasePath)
        defer { export.close() }
        var logger = Logger(label: "yongjun.store")
        logger.logLevel = .warning
        let copy = PostgresCopy(chain: chain, seal: seal, keyFileIDs: keyStore.signingKeyIDs(), logger: logger)
        let started = ContinuousClock.now
        let report: StoreCopyReport
        do {
            report = try await copy.copy(from: export, to: target)
        } catch let error as any UserFacingError {
            throw CLIFailure(message: "nothing copied to \(target.redacted): \(error)")
        } catch {
            throw CLIFailure(message: "nothing copied to \(target.redacted): \(PostgresStoreError.describing(error))")
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let summary = StoreCopySummary(report, source: directory, target: target, keyFiles: keyFiles(keyStore), seconds: seconds)
        if json { try printJSON(summary) } else { summary.printText() }
        guard report.committed else {
            throw CLIFailure(message: "the copy did not match and was rolled back: \(target.redacted) is as empty as before")
        }
    }

    /// The data directory `--from` names: the folder itself, or the folder of its `yongjun.sqlite`.
    private func sourceDirectory() throws -> DataDirectory {
        let text = from ?? "sqlite:" + global.dataDirectory.path
        guard text.hasPrefix("sqlite:"), text.count > "sqlite:".count else {
            throw CLIFailure(message: "--from must be sqlite:PATH (a data directory or its yongjun.sqlite), not \(text)")
        }
        let path = String(text.dropFirst("sqlite:".count))
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw CLIFailure(message: "\(path) does not exist") }
        let directory = DataDirectory(path: isFolder.boolValue ? path : (path as NSString).deletingLastPathComponent)
        guard isFolder.boolValue || (path as NSString).standardizingPath == directory.databasePath else {
            throw CLIFailure(
                message: "\(path) is not a data directory's yongjun.sqlite; for a backup file, `yongjun restore` it into a data directory first"
            )
        }
        guard directory.exists else { throw CLIFailure(message: "no yongjun.sqlite in \(directory.path)") }
        return directory
    }

    /// Every key file under keys/: none of them is in the database.
    private func keyFiles(_ keyStore: KeyStore) -> [String] {
        let fixed = ["audit.key", "id-hash.key"].map { keyStore.path + "/" + $0 }
        return (fixed + keyStore.signingKeyIDs().map { keyStore.path + "/signing/\($0).json" }).filter { FileManager.default.fileExists(atPath: $0) }
    }
}

extension ServeLock {
    /// True while `yongjun serve` holds the data directory's lock; creates nothing.
    static func isHeld(_ directory: DataDirectory) -> Bool {
        let descriptor = open(directory.path + "/serve.lock", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_SH | LOCK_NB) != 0
    }
}
