import Foundation
import Testing

@Suite("Crash durability, the binary killed with SIGKILL under load", .timeLimit(.minutes(5)))
struct CrashDurabilityTests {
    @Test("every verification acknowledged before kill -9 is on record after the restart, three rounds running")
    func acknowledgedVerificationsSurviveKill9() async throws {
        let script = CLI.packageRoot.appendingPathComponent("bench/crash").path
        // A minute or more under the whole suite: waited for on a thread of its own, not on one of the few cooperative
        // threads every async test needs.
        let run = try await onThread {
            try runTool(["python3", script, "--rounds", "3", "--binary", CLI.binary, "--clients", "8", "--cards", "100", "--merchants", "2"])
        }
        #expect(run.status == 0, "\(run.output)")
        let total = run.output.split(separator: "\n").first { $0.hasPrefix("total:") } ?? ""
        #expect(total.contains("missing 0;"), "\(run.output)")
        #expect(!total.contains("acknowledged 0,"), "\(run.output)")
    }

    @Test("cards import killed -9 while its one transaction writes: nothing imported, the database and its indexes whole, the file imports again")
    func importSurvivesKill9() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let rows = 300_000
        let csv = cli.workDirectory + "/cards.csv"
        let maker = CLI.packageRoot.appendingPathComponent("bench/make_cards.py").path
        let dataDirectory = cli.dataDirectory
        // The file, the import and the kill on a thread of their own (see above), which also keeps the kill's timing.
        let (made, wasRunning, reason) = try await onThread {
            let made = try runTool(["bash", "-c", "python3 \"$0\" \(rows) > \"$1\"", maker, csv])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["--data-dir", dataDirectory, "cards", "import", csv]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Killed once the transaction has written megabytes (the write-ahead log holds them), not while it still reads.
            let wal = dataDirectory + "/yongjun.sqlite-wal"
            let start = ContinuousClock.now
            while process.isRunning, ContinuousClock.now - start < .seconds(120) {
                let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
                if size > 4_000_000 { break }
                Thread.sleep(forTimeInterval: 0.02)
            }
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (made, wasRunning, process.terminationReason)
        }
        #expect(made.status == 0, "\(made.output)")
        try #require(wasRunning, "the import ended before it could be killed: make the file larger")
        #expect(reason == .uncaughtSignal)

        let database = cli.dataDirectory + "/yongjun.sqlite"
        #expect(try runTool(["sqlite3", database, "PRAGMA integrity_check"]).output == "ok\n")
        #expect(try runTool(["sqlite3", database, "SELECT count(*) FROM cards"]).output == "0\n", "a killed import leaves no card")
        let indexes = try runTool(["sqlite3", database, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cards'"]).output
        #expect(indexes.contains("cards_id_number_hash") && indexes.contains("cards_status_idx"), "indexes dropped for the load are back: \(indexes)")

        let again = try await onThread { try cli.run("cards", "import", csv) }
        #expect(again.status == 0 && again.stdout.contains("\(rows) new"), "\(again.stdout) \(again.stderr)")
        #expect(try runTool(["sqlite3", database, "SELECT count(DISTINCT status_idx) FROM cards"]).output == "\(rows)\n")
        #expect(try cli.run("audit", "verify").status == 0)
    }
}
