import Foundation
import Synchronization
import Testing
import YongjunCore
import YongjunStorage

@Suite("yongjun keys and cards, run as a process", .timeLimit(.minutes(5)))
struct CardsCommandTests {
    @Test("keys init prints a kid, refuses a second run, and keys list/rotate show current and previous keys")
    func keys() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let initialized = try cli.run("keys", "init")
        #expect(initialized.status == 0)
        let kid = initialized.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(kid.hasPrefix("k"))
        let again = try cli.run("keys", "init")
        #expect(again.status == 1)
        #expect(again.stderr.contains("keys already exist"))
        #expect(again.stderr.contains("yongjun keys rotate"))
        let rotated = try cli.run("keys", "rotate").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rotated != kid)
        let listed = try cli.run("keys", "list", "--json")
        let rows = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: String]] ?? []
        #expect(rows.map { $0["kid"] } == [kid, rotated])
        #expect(rows.map { $0["status"] } == ["previous", "current"])
        #expect(try cli.run("keys", "list").stdout.contains("current"))
    }

    @Test("cards import reports new, updated and unchanged, and a dry run writes nothing")
    func importIsIdempotent() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let file = try cli.write("cards.csv", CLI.cardsCSV)
        let dry = try cli.run("cards", "import", file, "--dry-run")
        #expect(dry.stdout.contains("would import 2 card(s): 2 new"))
        #expect(try cli.run("cards", "code", "LZ0001").stderr.contains("no card with card number LZ0001"))
        #expect(try cli.run("cards", "import", file).stdout.contains("imported 2 card(s): 2 new, 0 updated, 0 unchanged"))
        #expect(try cli.run("cards", "import", file).stdout.contains("0 new, 0 updated, 2 unchanged"))
        let changed = try cli.write("changed.csv", CLI.cardsCSV.replacingOccurrences(of: "2099-06-30", with: "2100-06-30"))
        #expect(try cli.run("cards", "import", changed).stdout.contains("0 new, 1 updated, 1 unchanged"))
    }

    @Test("a file with bad rows imports nothing and lists every bad line with its number and reason")
    func badRows() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let good = CLI.idNumber("44188219650312123")
        let badChecksum = String(good.dropLast()) + (good.last == "1" ? "2" : "1")
        let file = try cli.write(
            "bad.csv",
            """
            \u{FEFF}优待证号,姓名,身份证号,类别,有效期至
            LZ0001,张三,\(good),退役军人,2099-12-31
            LZ0002,李四,\(badChecksum),退役军人,2099-12-31
            LZ0003,王五,\(good),海军,2099-12-31
            LZ0004,赵六,\(good),军属,2099/12/31
            LZ0001,钱七,\(good),军属,2099-12-31

            """
        )
        let result = try cli.run("cards", "import", file)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines[0].contains("line 3: id_number (身份证号)"))
        #expect(lines[1].contains("line 4: category (类别) \"海军\""))
        #expect(lines[2].contains("line 5: valid_until (有效期至) \"2099/12/31\""))
        #expect(lines[3].contains("line 6: card_no (优待证号) LZ0001 already appears on line 2"))
        #expect(lines[4].contains("4 bad line(s); nothing was imported"))
        #expect(try cli.run("cards", "code", "LZ0001").status == 1)
    }

    @Test("import errors for a missing file, a non-UTF-8 file and missing keys are one clear line each")
    func importErrors() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let noKeys = try cli.run("cards", "import", try cli.write("cards.csv", CLI.cardsCSV))
        #expect(noKeys.status == 1)
        #expect(noKeys.stderr.contains("yongjun keys init"))
        #expect(try cli.run("keys", "init").status == 0)
        let missing = try cli.run("cards", "import", "nope.csv")
        #expect(missing.status == 1)
        #expect(missing.stderr == "yongjun: cannot read nope.csv: no such file or not readable\n")
        let binary = try cli.write("binary.csv", Data([0xFF, 0xFF, 0x0A]))
        #expect(try cli.run("cards", "import", binary).stderr.contains("is not UTF-8 or GB18030 text"))
    }

    @Test("cards code prints one signed code per card; revoked and unknown cards get a reason and exit 1")
    func codesAndRevocation() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let codes = try cli.run("cards", "code", "LZ0001", "LZ0002", "--lifetime", "60")
        #expect(codes.status == 0)
        let lines = codes.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.split(separator: ".").count == 3 })
        let revoked = try cli.run("cards", "revoke", "LZ0001", "--reason", "证件遗失")
        #expect(revoked.status == 0)
        #expect(revoked.stdout == "card LZ0001 revoked\n")
        let twice = try cli.run("cards", "revoke", "LZ0001", "--reason", "again")
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("already revoked"))
        #expect(try cli.run("cards", "code", "LZ0001").stderr.contains("card LZ0001 is revoked (证件遗失)"))
        #expect(try cli.run("cards", "revoke", "LZ9999", "--reason", "x").stderr.contains("no card with card number LZ9999"))
        let noReason = try cli.run("cards", "revoke", "LZ0002")
        #expect(noReason.status == 64)
        #expect(noReason.stderr.contains("--reason"))
    }

    @Test("activation codes for a mail merge come as a CSV Excel opens, one row per card, names quoted when needed")
    func activationCSV() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let file = try cli.write("cards.csv", CLI.cardsCSV.replacingOccurrences(of: ",李四,", with: ",\"李,四\","))
        #expect(try cli.run("cards", "import", file).status == 0)
        let out = cli.workDirectory + "/激活码.csv"
        #expect(try cli.run("cards", "activation", "--csv", out, "LZ0001", "LZ0002").stdout == "wrote 2 activation code(s) to \(out)\n")
        let bytes = try #require(FileManager.default.contents(atPath: out))
        #expect(Array(bytes.prefix(3)) == [0xEF, 0xBB, 0xBF], "a UTF-8 BOM so Excel reads the Chinese names")
        let lines = String(decoding: bytes.dropFirst(3), as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines[0] == "card_no,name,activation_code")
        #expect(lines[1].hasPrefix("LZ0001,张小三,"))
        #expect(lines[2].hasPrefix("LZ0002,\"李,四\","))
        #expect(lines[1].split(separator: ",").last?.count == 14)
    }

    @Test("the data directory can also come from YONGJUN_DATA_DIR, and --data-dir may follow the subcommand")
    func dataDirectory() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let viaEnvironment = try cli.run(["keys", "init"], environment: ["YONGJUN_DATA_DIR": cli.dataDirectory], withDataDir: false)
        #expect(viaEnvironment.status == 0)
        let afterSubcommand = try cli.run(["keys", "list", "--data-dir", cli.dataDirectory], withDataDir: false)
        #expect(afterSubcommand.stdout.contains(viaEnvironment.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("every command's help has an example")
    func help() throws {
        let cli = try CLI()
        defer { cli.remove() }
        for command in [
            ["keys", "init"], ["keys", "rotate"], ["cards", "import"], ["cards", "code"], ["cards", "revoke"], ["merchants", "add"],
            ["merchants", "key"], ["serve"],
        ] {
            let help = try cli.run(command + ["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Example"), "\(command)")
        }
    }
}

@Suite("cards import in short transactions, beside other connections", .timeLimit(.minutes(5)))
struct ChunkedImportTests {
    static func csv(_ numbers: ClosedRange<Int>, name: String = "张三") -> String {
        "card_no,name,id_number,category,valid_until\n"
            + numbers.map { "LZ\($0),\(name),\(CLI.idNumber("44188219650312" + String(format: "%03d", $0 % 1000))),veteran,2099-12-31\n" }.joined()
    }

    static func cards(_ numbers: ClosedRange<Int>, name: String = "张三") throws -> [ImportedCard] {
        let parsed = CardImport.parse(csv(numbers, name: name))
        try #require(parsed.problems.isEmpty)
        return parsed.cards
    }

    let hasher = IDNumberHasher(keyBytes: Array(repeating: 7, count: 32))
    /// Transactions of about a quarter millisecond: thousands of chunk boundaries for a few thousand rows.
    let tiny = ImportPacing(chunk: .microseconds(250), pause: .microseconds(200))

    @Test("an import in many short transactions, while another connection revokes and counts, writes every row exactly once")
    func interleavedWithAnotherWriter() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let directory = DataDirectory(path: cli.dataDirectory)
        let importer = try AppDatabase.open(in: directory)
        let other = try AppDatabase.open(in: directory)
        let finished = Atomic<Bool>(false)
        let seen = Mutex<(revoked: [String], counts: [Int])>(([], []))
        let writer = Thread {
            var next = 100
            while !finished.load(ordering: .acquiring) {
                let count = (try? other.cardCount()) ?? -1
                seen.withLock { $0.counts.append(count) }
                // Revoke each hundredth card as soon as it exists: the import must neither undo it nor trip over it.
                if next <= 3000, (try? other.card(number: "LZ\(next)")) != nil {
                    try? other.revokeCard(number: "LZ\(next)", reason: "遗失", now: Date())
                    seen.withLock { $0.revoked.append("LZ\(next)") }
                    next += 100
                }
            }
        }
        writer.start()
        let summary = try importer.importCards(try Self.cards(1...3000), hasher: hasher, now: Date(), pacing: { tiny })
        finished.store(true, ordering: .releasing)
        while writer.isExecuting { usleep(1000) }
        #expect(summary == CardImportSummary(inserted: 3000, updated: 0, unchanged: 0))
        let (revoked, counts) = seen.withLock { $0 }
        #expect(counts.count > 10, "the other connection got its turns during the import")
        #expect(counts.filter { $0 >= 0 } == counts.filter { $0 >= 0 }.sorted(), "the count only grows: no chunk is undone")
        #expect(counts.contains { $0 > 0 && $0 < 3000 }, "the other connection saw the import half done")
        let stored = try tamper(cli, "SELECT count(*), count(DISTINCT card_no), count(DISTINCT status_idx), count(DISTINCT id) FROM cards")
        #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == "3000|3000|3000|3000")
        #expect(try importer.writerSynchronousMode() == 2, "chunks commit without fsync; the connection is back to FULL after")
        let again = try importer.importCards(try Self.cards(1...3000), hasher: hasher, now: Date(), pacing: { tiny })
        #expect(again == CardImportSummary(inserted: 0, updated: 0, unchanged: 3000))
        let stillRevoked = try tamper(cli, "SELECT count(*) FROM cards WHERE status = 'revoked'")
        #expect(Int(stillRevoked.trimmingCharacters(in: .whitespacesAndNewlines)) == revoked.count)
    }

    @Test("an import stopped by an error in a late row keeps the rows written before it, and running it again completes it")
    func stoppedLateAndRerun() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let database = try AppDatabase.open(in: DataDirectory(path: cli.dataDirectory))
        let cards = try Self.cards(1...2000)
        struct FileChanged: Error {}
        func importFailing(at failing: Int, pacing: ImportPacing) throws {
            var handed = 0
            _ = try database.importCards(
                count: cards.count,
                next: {
                    handed += 1
                    if handed == failing { throw FileChanged() }
                    return CardImportRow(cards[handed - 1], hasher: hasher)
                },
                now: Date(),
                pacing: { pacing }
            )
        }
        #expect(throws: FileChanged.self) { try importFailing(at: 1900, pacing: ImportPacing(chunk: .seconds(3600), pause: .zero)) }
        #expect(try database.cardCount() == 0, "the transaction in progress is rolled back")
        let indexes = "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cards' ORDER BY name)"
        let allFour = "cards_id_number_hash cards_status_idx sqlite_autoindex_cards_1 sqlite_autoindex_cards_2"
        let afterRollback = try tamper(cli, indexes).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(afterRollback == allFour, "a first import drops two indexes; the rollback puts them back")
        #expect(throws: FileChanged.self) { try importFailing(at: 1900, pacing: tiny) }
        let written = try database.cardCount()
        #expect(written > 0 && written <= 1899, "the transactions committed before the error are kept")
        let changed = try Self.cards(1...2000, name: "李四")
        let rerun = try database.importCards(changed, hasher: hasher, now: Date(), pacing: { tiny })
        #expect(rerun == CardImportSummary(inserted: 2000 - written, updated: written, unchanged: 0))
        #expect(try database.cardCount() == 2000)
        #expect(try cli.run("cards", "code", "LZ1999").status == 0)
        let whole = try database.importCards(try Self.cards(3001...4000), hasher: hasher, now: Date(), pacing: { .whole })
        #expect(whole == CardImportSummary(inserted: 1000, updated: 0, unchanged: 0))
        #expect(try tamper(cli, indexes).trimmingCharacters(in: .whitespacesAndNewlines) == allFour)
        #expect(try tamper(cli, "PRAGMA integrity_check").trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test(
        "serve started during an import without a server answers at once; a verification waits for the import's commit (at most ten seconds) and is recorded once"
    )
    func serveStartedDuringImport() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rows = 600_000
        let csv = cli.workDirectory + "/many.csv"
        let maker = CLI.packageRoot.appendingPathComponent("bench/make_cards.py").path
        #expect(try await onThread { try runTool(["bash", "-c", "python3 \"$0\" \(rows) > \"$1\"", maker, csv]) }.status == 0)

        // The timing is the import's: the processes are driven from a thread of their own, which neither waits for a
        // cooperative thread (held by other tests' blocking calls) nor holds one from them.
        let seen = try await onThread { try ImportBesideServe(cli: cli, csv: csv, key: key, code: code) }
        try #require(seen.startedDuringImport, "the import ended before a server could start beside it: make the file larger")
        // Before: "serving on" (and any answer, even /healthz) came only once the import had committed.
        #expect(seen.cardsWhenServing == "2\n", "the server began answering only after the import: \(seen.untilServing)")
        #expect(seen.readyz == "ready")
        #expect(seen.sentDuringImport, "the verification was to be sent while the import held the write lock")
        let first = seen.first
        if first.status == 200 {
            #expect(first.body.contains(#""valid":true"#), "\(first.body)")
            #expect(seen.cardsAfterFirst == "\(rows + 2)\n", "answered before the import committed: it did not wait for it")
        } else {
            // The import held the lock longer than a group waits: nothing recorded, retry.
            #expect(first.status == 503 && first.body.contains(#""error":"unavailable""#), "\(first.status) \(first.body)")
            #expect(first.headers.lowercased().contains("retry-after:"), "\(first.headers)")
            #expect(seen.waited > .seconds(9), "a group waits about ten seconds for the lock before it gives up: \(seen.waited)")
        }
        #expect(seen.importStatus == 0 && seen.importSummary.contains("\(rows) new"), "\(seen.importSummary)")
        #expect(seen.again.status == 200 && seen.again.body.contains(#""valid":true"#), "\(seen.again.body)")
        if first.status == 200 { #expect(seen.again.body == first.body, "the same nonce replays the first answer") }
        #expect(seen.other.body.contains(#""valid":false"#) && seen.other.body.contains("already_used_here"), "\(seen.other.body)")
        #expect(seen.serverStatus == 0)
        #expect(try cli.run("audit", "verify").status == 0)
    }

    @Test("a dry run over thousands of rows counts what would change and writes nothing")
    func dryRunWritesNothing() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let database = try AppDatabase.open(in: DataDirectory(path: cli.dataDirectory))
        _ = try database.importCards(try Self.cards(1...1000), hasher: hasher, now: Date(), pacing: { .alone })
        let dry = try database.importCards(try Self.cards(501...2500, name: "李四"), hasher: hasher, now: Date(), dryRun: true)
        #expect(dry == CardImportSummary(inserted: 1500, updated: 500, unchanged: 0))
        #expect(try database.cardCount() == 1000)
    }
}

@Suite("cards import of files larger than one read", .timeLimit(.minutes(5)))
struct LargeImportFileTests {
    @Test("a 40,000-row file with a bad row and a repeated card number near its end imports nothing and names both lines")
    func lateProblems() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        var text = ChunkedImportTests.csv(1...40_000)
        text += "LZ40001,王五,\(CLI.idNumber("44188219650312123")),海军,2099-12-31\n"
        text += "LZ17,赵六,\(CLI.idNumber("44188219650312123")),veteran,2099-12-31\n"
        let result = try cli.run("cards", "import", try cli.write("big.csv", text))
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].contains("line 40002: category (类别) \"海军\""))
        #expect(lines[1].contains("line 40003: card_no (优待证号) LZ17 already appears on line 18"))
        #expect(lines[2].contains("2 bad line(s); nothing was imported"))
        #expect(try cli.run("cards", "code", "LZ1").status == 1)
    }

    @Test("a GB18030 file whose first megabyte is plain ASCII is still detected, and every name arrives intact")
    func lateGB18030() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        var text = ChunkedImportTests.csv(1...20_000, name: "Zhang San")
        text += "LZ20001,欧阳小明,\(CLI.idNumber("44188219650312123")),退役军人,2099-12-31\r\n"
        let file = try cli.write("gbk.csv", gbkEncoded(text))
        let result = try cli.run("cards", "import", file)
        #expect(result.stdout.contains("imported 20001 card(s): 20001 new"), "\(result.stderr)")
        #expect(try cli.run("cards", "show", "LZ20001").stdout.contains("欧阳小明"))
        #expect(try cli.run("cards", "import", file, "--encoding", "utf-8").stderr.contains("is not utf-8 text"))
    }
}

/// Runs `body` on a thread of its own and returns its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// `cards import` of a large file with no server, `serve` started once the import's transaction writes, and what
/// each step saw (ChunkedImportTests.serveStartedDuringImport checks it).
struct ImportBesideServe: Sendable {
    var startedDuringImport = false
    var untilServing = Duration.zero
    var cardsWhenServing = ""
    var readyz = ""
    var sentDuringImport = false
    var first = CurlReply(status: 0, headers: "", body: "", seconds: 0)
    var waited = Duration.zero
    var cardsAfterFirst = ""
    var importStatus: Int32 = -1
    var importSummary = ""
    var again = CurlReply(status: 0, headers: "", body: "", seconds: 0)
    var other = CurlReply(status: 0, headers: "", body: "", seconds: 0)
    var serverStatus: Int32 = -1

    init(cli: CLI, csv: String, key: String, code: String) throws {
        let importing = Process()
        importing.executableURL = URL(fileURLWithPath: CLI.binary)
        importing.arguments = ["--data-dir", cli.dataDirectory, "cards", "import", csv]
        let imported = Pipe()
        importing.standardOutput = imported
        importing.standardError = FileHandle.nullDevice
        try importing.run()
        defer { if importing.isRunning { importing.terminate() } }
        // Started once the import's one transaction holds the write lock (its pages spill into the write-ahead log).
        let wal = cli.dataDirectory + "/yongjun.sqlite-wal"
        let begun = ContinuousClock.now
        while importing.isRunning, ContinuousClock.now - begun < .seconds(120) {
            if ((try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0) > 1_000_000 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        startedDuringImport = importing.isRunning
        guard startedDuringImport else { return }

        let port = try OccupiedPort.freePort()
        let base = "http://127.0.0.1:\(port)"
        let log = cli.workDirectory + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CLI.binary)
        server.arguments = ["--data-dir", cli.dataDirectory, "serve", "--port", String(port), "--admin-port", "off"]
        server.standardOutput = FileHandle(forWritingAtPath: log)
        server.standardError = FileHandle(forWritingAtPath: log)
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let starting = ContinuousClock.now
        while !((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("serving on"), ContinuousClock.now - starting < .seconds(60) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        untilServing = ContinuousClock.now - starting
        // What a reader sees committed: 2 cards until the import commits, then all of them.
        let committedCards = { try runTool(["sqlite3", cli.dataDirectory + "/yongjun.sqlite", "SELECT count(*) FROM cards"]).output }
        cardsWhenServing = try committedCards()
        readyz = try timedCurl(in: cli.workDirectory, [base + "/readyz"]).body

        func verify(_ nonce: String) throws -> CurlReply {
            try timedCurl(
                in: cli.workDirectory,
                [
                    "-X", "POST", "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: application/json",
                    "-d", #"{"code":"\#(code)","nonce":"\#(nonce)"}"#, base + "/api/v1/verifications",
                ]
            )
        }
        sentDuringImport = try committedCards() == "2\n"
        let sent = ContinuousClock.now
        first = try verify("during-import")
        waited = ContinuousClock.now - sent
        cardsAfterFirst = try committedCards()

        importing.waitUntilExit()
        importStatus = importing.terminationStatus
        importSummary = String(decoding: imported.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        again = try verify("during-import")
        other = try verify("after-import")
        server.terminate()
        server.waitUntilExit()
        serverStatus = server.terminationStatus
    }
}
