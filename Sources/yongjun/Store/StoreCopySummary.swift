import Foundation
import YongjunCore
import YongjunPostgres
import YongjunStorage

/// `store copy`'s output: one line per table, the key ids, the audit check, and the key files to copy by hand.
struct StoreCopySummary: Encodable {
    struct Keys: Encodable {
        let source: [String]
        let target: [String]
        let ok: Bool
    }

    struct Audit: Encodable {
        let entries: Int
        let ok: Bool
        let problems: [String]
    }

    let source: String
    let target: String
    let tables: [StoreCopyReport.TableCount]
    let signingKeys: Keys
    let audit: Audit
    /// Key files stay in the data directory: each instance needs a copy of them.
    let keyFiles: [String]
    let rows: Int
    let seconds: Double
    let committed: Bool
    let ok: Bool

    init(_ report: StoreCopyReport, source: DataDirectory, target: PostgresURL, keyFiles: [String], seconds: Double) {
        self.source = source.databasePath
        self.target = target.redacted
        tables = report.tables
        signingKeys = Keys(source: report.sourceKeyIDs, target: report.targetKeyIDs, ok: report.keysOK)
        audit = Audit(entries: report.audit.entries, ok: report.audit.isIntact, problems: report.audit.problemLines)
        self.keyFiles = keyFiles
        rows = report.rows
        self.seconds = (seconds * 1000).rounded() / 1000
        committed = report.committed
        ok = report.ok
    }

    func printText() {
        printTable(
            ["table", "rows in SQLite", "rows in PostgreSQL", "ok"],
            tables.map { [$0.table, String($0.source), String($0.target), $0.ok ? "ok" : "DIFFERENT"] }
        )
        let keys = signingKeys.source.joined(separator: ", ")
        printLine(
            "signing keys in the audit log: \(keys.isEmpty ? "none" : keys) \(signingKeys.ok ? "ok" : "DIFFERENT in the copy: " + signingKeys.target.joined(separator: ", "))"
        )
        printLine("audit log: \(audit.entries) entries; chain, sealed head and state re-verified on the copied rows: \(audit.ok ? "ok" : "FAILED")")
        for problem in audit.problems { printLine("  " + problem) }
        let rate = seconds > 0 ? " (\(Int(Double(rows) / seconds)) rows/s)" : ""
        printLine(
            committed
                ? "copied \(rows) rows from \(source) to \(target) in \(String(format: "%.2f", seconds)) s\(rate), in one transaction"
                : "nothing was committed to \(target)"
        )
        printLine("key files are not in the database: copy them to the data directory (--data-dir) of every instance that uses \(target),")
        printLine(
            "keeping their modes (files 0600, folders 0700), e.g. with `cp -a \((source as NSString).deletingLastPathComponent)/keys DATA_DIR/`:"
        )
        for file in keyFiles { printLine("  " + file) }
    }
}
