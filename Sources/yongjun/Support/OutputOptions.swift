import ArgumentParser
import Foundation
import YongjunCore

/// `--json` / `--csv` on every list, show and report command; a readable table otherwise.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON (stable keys, for scripts).")
    var json = false

    @Flag(help: "Print CSV in UTF-8 with a BOM, so Excel shows Chinese text correctly.")
    var csv = false

    func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
    }

    /// Prints `value` as JSON, or `rows` under `header` as CSV or a table.
    func emit(_ value: some Encodable, header: [String], rows: [[String]]) throws {
        if json {
            try printJSON(value)
        } else if csv {
            printCSV(header, rows)
        } else {
            printTable(header, rows)
        }
    }
}

/// The one CSV writer (YongjunCore `CSVText`): BOM, CRLF, quoting, and formula cells neutralised.
func csvText(_ header: [String], _ rows: [[String]]) -> String { CSVText.document(header, rows) }

func printCSV(_ header: [String], _ rows: [[String]]) {
    FileHandle.standardOutput.write(Data(csvText(header, rows).utf8))
}

/// Shows "checked N of M rows" on a terminal only, so scripts and logs stay clean.
struct Progress {
    let label: String
    private let enabled = isatty(STDERR_FILENO) == 1

    init(_ label: String) {
        self.label = label
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total >= 1000 else { return }
        FileHandle.standardError.write(Data("\r\(label) \(done)/\(total)\(done == total ? "\n" : "")".utf8))
    }
}
