import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import or update cardholders from a CSV file (all rows or none).",
        discussion: """
            The first row names the columns, in English or Chinese, in any order:
              card_no,name,id_number,category,valid_until,phone
              优待证号,姓名,身份证号,类别,有效期至,手机号
            phone (手机号) may be left out. category takes a code or its label, e.g. veteran or 退役军人.
            Dates are YYYY-MM-DD. The file is UTF-8 (with or without a BOM) or GB18030/GBK, detected
            automatically or set with --encoding.
            Importing the same file again changes nothing; changed rows update the card.

            Example: yongjun cards import cards-2026-11.csv --dry-run
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(help: "Check the file and report what would change, without writing anything.")
    var dryRun = false

    @Option(help: "utf-8 or gb18030 (gbk); detected when left out.")
    var encoding: String?

    func run() async throws {
        var chosen: TextEncoding?
        if let encoding {
            guard let named = TextEncoding(name: encoding) else {
                throw CLIFailure(message: "--encoding \(encoding) is not supported; use utf-8 or gb18030 (gbk)")
            }
            chosen = named
        }
        // Never all of the file in memory: every row is checked (all rows or none) and its hashed form kept in a
        // temporary file, which the writing pass then reads.
        let source = try CardFile(path: file, encoding: chosen)
        let hasher = Result { try global.keyStore.idNumberHasher() }
        let directory = global.dataDirectory
        if !dryRun, case .success(let hasher) = hasher, global.databaseURL != nil || !serverIsRunning(directory),
            let (cards, summary) = try await importWhileChecking(source, hasher: hasher)
        {
            print("imported \(cards) card(s): \(summary.inserted) new, \(summary.updated) updated, \(summary.unchanged) unchanged")
            return
        }
        let spool = try CardSpool()
        let check = try source.check(
            progress: Progress("checked kB"),
            start: { try spool.reset() },
            good: { card in
                if case .success(let hasher) = hasher { try spool.append(CardImportRow(card, hasher: hasher)) }
            }
        )
        guard check.problems.isEmpty else { throw refuseImport(file, check.problems) }
        _ = try hasher.get()
        try spool.rewind()
        let audit = try global.audit()
        let summary = try await global.withAdminStore { store in
            try await store.importCards(
                count: check.cards,
                next: { try spool.next() },
                now: Date(),
                dryRun: dryRun,
                audit: audit,
                source: (file as NSString).lastPathComponent,
                pacing: { serverIsRunning(directory) ? .shared : .alone }
            )
        }
        let verb = dryRun ? "would import" : "imported"
        print("\(verb) \(check.cards) card(s): \(summary.inserted) new, \(summary.updated) updated, \(summary.unchanged) unchanged")
        if dryRun { print("dry run: nothing was written") }
    }
}

extension CardsImport {
    /// Nothing else waits to write (no server on this data directory; or PostgreSQL, which writes an import in one
    /// transaction anyway): the file is checked on a thread of its own while the store writes the rows already
    /// checked, in one transaction that a bad file rolls back — all rows or none, as with two passes, in about the
    /// time of the slower pass. nil when the file turned out not to be UTF-8 and must be read again as GB18030: then
    /// the two passes run.
    private func importWhileChecking(_ source: CardFile, hasher: IDNumberHasher) async throws -> (Int, CardImportSummary)? {
        let pipe = CardImportPipe()
        let estimate = try source.lineCount()  // an upper bound on the rows, for the status-list map
        let (audit, global, name) = (try global.audit(), global, (file as NSString).lastPathComponent)
        let writer = Task {
            defer { pipe.writerEnded() }
            return try await global.withAdminStore { store in
                try await store.importCards(
                    count: estimate,
                    next: { try pipe.next() },
                    now: Date(),
                    dryRun: false,
                    audit: audit,
                    source: name,
                    pacing: { .whole }
                )
            }
        }
        struct ReadAgain: Error {}
        let file = UncheckedSendable(source)
        let check: CardFileCheck
        do {
            check = try await onOwnThread {
                var started = false
                return try file.value.check(
                    progress: Progress("checked kB"),
                    start: {
                        if started { throw ReadAgain() }
                        started = true
                    },
                    good: { card in try pipe.send(CardImportRow(card, hasher: hasher)) }
                )
            }
        } catch is CardImportPipe.WriterStopped {
            pipe.finish(accepted: false)
            _ = try await writer.value  // the writer's own error
            throw CLIFailure(message: "the import stopped before the file was checked")
        } catch {
            pipe.finish(accepted: false)
            _ = try? await writer.value  // rolled back
            if error is ReadAgain { return nil }
            throw error
        }
        pipe.finish(accepted: check.problems.isEmpty)
        guard check.problems.isEmpty else {
            _ = try? await writer.value  // rolled back
            throw refuseImport(self.file, check.problems)
        }
        return (check.cards, try await writer.value)
    }
}

/// A value handed to another thread that only that thread uses from then on.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Whether `yongjun serve` runs on this data directory (it holds `serve.lock` for its lifetime): then shops'
/// verifications may be waiting for the import's write lock, and the import holds it only briefly.
private func serverIsRunning(_ directory: DataDirectory) -> Bool {
    let descriptor = open(directory.path + "/serve.lock", O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return errno != ENOENT }  // no lock file: no server ever ran here
    defer { close(descriptor) }
    guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else { return true }
    flock(descriptor, LOCK_UN)
    return false
}
