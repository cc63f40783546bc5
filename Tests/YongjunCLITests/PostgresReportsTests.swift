import Foundation
import Testing
import YongjunCore

/// A register on SQLite with verifications through `serve` and rows placed on China-time day, month and year edges,
/// copied into PostgreSQL with `store copy`: every report must then read the same on both stores.
@Suite("reports on PostgreSQL: the same figures as on SQLite", .timeLimit(.minutes(5)))
struct PostgresReportsTests {
    /// Four cards, a batch whose approved application became shop 2, shops 1 and 3 added directly (3 suspended),
    /// verifications through the server today, and 2025's rows written on the edges.
    static func register(_ cli: CLI) async throws {
        let key = try cli.prepare()
        let more = """
            card_no,name,id_number,category,valid_until,phone
            LZ0003,王五,\(CLI.idNumber("44188219650312789")),martyr_family,2099-12-31,
            LZ0004,赵六,\(CLI.idNumber("44188219650312790")),veteran,2025-06-30,

            """
        #expect(try cli.run("cards", "import", try cli.write("more.csv", more)).status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("apply.csv", applicationsCSV(1...3))).status == 0)
        for _ in 0..<3 { #expect(try cli.run("applications", "advance", "1").status == 0) }
        #expect(try cli.run("applications", "advance", "3").status == 0)
        #expect(try cli.run("applications", "reject", "2", "--reason", "材料不全").status == 0)
        #expect(try cli.run("batches", "approve", "1", "--meeting-date", "2026-11-20").status == 0)
        let third = try cli.run("merchants", "add", "--name", "星子镇车行", "--industry", "vehicle_repair", "--address", "连州市星子镇7号")
        #expect(third.stdout == "3\n", "\(third.stderr)")
        let secondKey = try cli.run("merchants", "key", "2").stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let codes = try cli.run("cards", "code", "LZ0001", "LZ0002", "LZ0003").stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 3)
        let server = try ServerProcess(cli: cli)
        for code in codes { #expect(try await server.verify(code, key: key)["valid"] as? Bool == true) }
        #expect(try await server.verify(codes[0], key: secondKey)["valid"] as? Bool == true)
        #expect(try await server.verify(codes[0], key: key)["reason"] as? String == "already_used_here")
        #expect(server.stop() == 0)
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        #expect(try cli.run("merchants", "suspend", "3", "--reason", "门店装修").status == 0)

        // 2025 on China-time edges: a card issued at 00:00 on 1 January (2025's) and one at 23:59:59.999 the night
        // before (2024's); LZ0002 revoked at 23:59:59 on 31 December (not active then); shops created in 2025,
        // shop 3 suspended at 00:00 on 1 January 2026 (still active on 31 December).
        let sql = [
            "UPDATE cards SET created_at = '2024-12-31T16:00:00.000Z' WHERE card_no IN ('LZ0001', 'LZ0003')",
            "UPDATE cards SET created_at = '2024-12-31T15:59:59.999Z' WHERE card_no IN ('LZ0002', 'LZ0004')",
            "UPDATE cards SET revoked_at = '2025-12-31T15:59:59.000Z' WHERE card_no = 'LZ0002'",
            "UPDATE merchants SET created_at = '2025-02-01T00:00:00.000Z'",
            "UPDATE merchants SET status_changed_at = '2025-12-31T16:00:00.000Z' WHERE id = 3",
        ]
        for statement in sql { _ = try tamper(cli, statement) }
        for row in edgeVerifications { _ = try tamper(cli, row.insert) }
    }

    /// A verification row written straight into the register, its id made from its time as the server makes them.
    struct EdgeRow {
        let merchant: Int
        let card: String
        let createdAt: String
        let valid: Bool
        let reason: String?
        var offline: (nonce: String, receivedAt: String, conflict: String?)?

        var insert: String {
            var generator = SystemRandomNumberGenerator()
            let millis = UInt64(Timestamp.parse(createdAt)!.timeIntervalSince1970 * 1000)
            let id = RandomText.timeOrderedID(millis: millis, using: &generator)
            func text(_ value: String?) -> String { value.map { "'\($0)'" } ?? "NULL" }
            return """
                INSERT INTO verifications (id, merchant_id, card_id, valid, reason, created_at, response, offline, nonce, device_result,
                    conflict, received_at)
                VALUES ('\(id)', \(merchant), (SELECT id FROM cards WHERE card_no = '\(card)'), \(valid ? 1 : 0), \(text(reason)),
                    '\(createdAt)', '{}', \(offline == nil ? 0 : 1), \(text(offline?.nonce)), \(offline == nil ? "NULL" : "'valid'"),
                    \(text(offline?.conflict)), \(text(offline?.receivedAt)))
                """
        }
    }

    static let edgeVerifications: [EdgeRow] = [
        // Last moment of 2024 and first of 2025 in China.
        EdgeRow(merchant: 3, card: "LZ0001", createdAt: "2024-12-31T15:59:59.999Z", valid: true, reason: nil),
        EdgeRow(merchant: 3, card: "LZ0003", createdAt: "2024-12-31T16:00:00.000Z", valid: true, reason: nil),
        // 23:59:59.999 on 31 March and 00:00 on 1 April, China time.
        EdgeRow(merchant: 1, card: "LZ0001", createdAt: "2025-03-31T15:59:59.999Z", valid: true, reason: nil),
        EdgeRow(merchant: 2, card: "LZ0002", createdAt: "2025-03-31T16:00:00.000Z", valid: false, reason: "card_revoked"),
        EdgeRow(merchant: 2, card: "LZ0003", createdAt: "2025-04-01T02:00:00.000Z", valid: true, reason: nil),
        // Offline uploads received on either side of midnight; two received at the same moment (ordered by id).
        EdgeRow(
            merchant: 1,
            card: "LZ0003",
            createdAt: "2025-06-30T10:00:00.000Z",
            valid: false,
            reason: "already_used_here",
            offline: ("n1", "2025-06-30T15:59:59.000Z", "already_used_here")
        ),
        EdgeRow(
            merchant: 2,
            card: "LZ0004",
            createdAt: "2025-06-30T11:00:00.000Z",
            valid: false,
            reason: "card_expired",
            offline: ("n2", "2025-06-30T15:59:59.000Z", "card_expired")
        ),
        EdgeRow(
            merchant: 2,
            card: "LZ0002",
            createdAt: "2025-06-30T12:00:00.000Z",
            valid: false,
            reason: "card_revoked",
            offline: ("n3", "2025-06-30T16:00:00.000Z", "card_revoked")
        ),
        EdgeRow(
            merchant: 3,
            card: "LZ0001",
            createdAt: "2025-07-01T01:00:00.000Z",
            valid: true,
            reason: nil,
            offline: ("n4", "2025-07-01T02:00:00.000Z", nil)
        ),
    ]

    /// Runs `arguments` on SQLite and on PostgreSQL; both must exit alike and print the same; returns SQLite's run.
    @discardableResult
    func same(_ cli: CLI, _ database: String, _ arguments: [String]) throws -> CLI.Result {
        let sqlite = try cli.run(arguments)
        let postgres = try cli.run(arguments, environment: ["YONGJUN_DATABASE": database])
        #expect(sqlite.status == 0, "\(arguments) on SQLite: \(sqlite.stderr)")
        #expect(postgres.status == sqlite.status, "\(arguments) on PostgreSQL: \(postgres.stderr)")
        #expect(postgres.stdout == sqlite.stdout, "\(arguments)")
        #expect(postgres.stderr == sqlite.stderr, "\(arguments)")
        return sqlite
    }

    func copied(_ cli: CLI) async throws -> String {
        let database = try await PostgresServer.running().createDatabase()
        let copy = try cli.run(["store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database])
        #expect(copy.status == 0, "\(copy.stderr)")
        return database
    }

    @Test("reports verifications and offline-conflicts: China-day edges, a shop, an empty period, in text, JSON and CSV")
    func verificationsAndConflicts() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        try await Self.register(cli)
        let database = try await copied(cli)
        let today = CalendarDate(chinaDayOf: Date()).description
        let periods: [[String]] = [
            ["--from", "2025-03-31", "--to", "2025-03-31"], ["--from", "2025-04-01", "--to", "2025-04-01"],
            ["--from", "2024-12-31", "--to", "2025-12-31"], ["--from", "2025-01-01", "--to", "2025-12-31", "--merchant", "2"],
            ["--from", "2024-06-01", "--to", "2024-06-30"], ["--from", today, "--to", today],
        ]
        for period in periods {
            for format in [[], ["--json"], ["--csv"]] {
                try same(cli, database, ["reports", "verifications"] + period + format)
                try same(cli, database, ["reports", "offline-conflicts"] + period + format)
            }
        }
        // What a person reads: the day edge splits the two, the empty period says 0, today's come from serve.
        let march = try same(cli, database, ["reports", "verifications", "--from", "2025-03-31", "--to", "2025-03-31"])
        #expect(march.stdout.hasPrefix("verifications 2025-03-31 … 2025-03-31: 1 total, 1 valid, 0 rejected\n"), "\(march.stdout)")
        let april = try same(cli, database, ["reports", "verifications", "--from", "2025-04-01", "--to", "2025-04-01"])
        #expect(april.stdout.hasPrefix("verifications 2025-04-01 … 2025-04-01: 2 total, 1 valid, 1 rejected\n"), "\(april.stdout)")
        let year = try same(cli, database, ["reports", "verifications", "--from", "2025-01-01", "--to", "2025-12-31", "--csv"]).stdout
        #expect(year.contains("month,2025-03,2025-03,1,1,0\r\n") && year.contains("month,2025-04,2025-04,2,1,1\r\n"), "\(year)")
        #expect(year.contains("month,2025-01,2025-01,1,1,0\r\n") && !year.contains("2024-12"), "\(year)")
        let empty = try same(cli, database, ["reports", "verifications", "--from", "2024-06-01", "--to", "2024-06-30"])
        #expect(empty.stdout == "verifications 2024-06-01 … 2024-06-30: 0 total, 0 valid, 0 rejected\n")
        let served = try same(cli, database, ["reports", "verifications", "--from", today, "--to", today])
        #expect(served.stdout.hasPrefix("verifications \(today) … \(today): 5 total, 4 valid, 1 rejected\n"), "\(served.stdout)")
        let offline = try same(cli, database, ["reports", "verifications", "--from", "2025-06-30", "--to", "2025-07-01"])
        #expect(offline.stdout.contains("4 made offline, 3 flagged"), "\(offline.stdout)")

        let lastDay = try same(cli, database, ["reports", "offline-conflicts", "--from", "2025-06-30", "--to", "2025-06-30", "--csv"]).stdout
        let rows = lastDay.split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        // Received at the same moment: ordered by id, which follows the device's time (n1 before n2).
        #expect(rows.map { String($0[8]) } == ["already_used_here", "card_expired"], "\(lastDay)")
        let firstDay = try same(cli, database, ["reports", "offline-conflicts", "--from", "2025-07-01", "--to", "2025-07-01"])
        #expect(firstDay.stdout.hasPrefix("offline conflicts received 2025-07-01 … 2025-07-01: 1\n") && firstDay.stdout.contains("card_revoked"))
        let none = try same(cli, database, ["reports", "offline-conflicts", "--from", "2024-06-01", "--to", "2024-06-30", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [Any])?.isEmpty == true, "\(none.stdout)")
        try same(cli, database, ["reports", "offline-conflicts"])

        // Bad input: the same message on both, nothing read.
        for bad in [["--from", "2025-07-02", "--to", "2025-07-01"], ["--from", "2025-13-01", "--to", "2025-07-01"]] {
            let sqlite = try cli.run(["reports", "offline-conflicts"] + bad)
            let postgres = try cli.run(["reports", "offline-conflicts"] + bad, environment: ["YONGJUN_DATABASE": database])
            #expect(sqlite.status != 0 && postgres.status == sqlite.status && postgres.stderr == sqlite.stderr, "\(postgres.stderr)")
        }
    }

    @Test("reports year, merchants and batch: China-time year edges, an empty year, the running year with its batch, text, JSON, CSV and HTML")
    func yearAndMerchants() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        try await Self.register(cli)
        let database = try await copied(cli)
        let thisYear = String(CalendarDate(chinaDayOf: Date()).year)
        let server = try PostgresServer.running()
        let registerRows =
            "SELECT (SELECT count(*) FROM audit_log) || ' ' || (SELECT count(*) FROM verifications) || ' ' || (SELECT count(*) FROM cards)"
        let before = try server.psql(database, registerRows)
        for year in ["2023", "2024", "2025", thisYear] {
            for format in [[], ["--json"], ["--csv"]] { try same(cli, database, ["reports", "year", year] + format) }
        }
        for format in [[], ["--json"], ["--csv"]] {
            try same(cli, database, ["reports", "merchants"] + format)
            try same(cli, database, ["reports", "batch", "1"] + format)
        }
        let batch = try same(cli, database, ["reports", "batch", "1"]).stdout
        #expect(batch.hasPrefix("batch 1: 3 applied → 1 approved, 1 rejected, 1 under review\n"), "\(batch)")
        let unknown = try cli.run("reports", "batch", "9")
        let unknownOnPostgres = try cli.run(["reports", "batch", "9"], environment: ["YONGJUN_DATABASE": database])
        #expect(unknown.status == 1 && unknownOnPostgres.status == 1 && unknownOnPostgres.stderr == unknown.stderr, "\(unknownOnPostgres.stderr)")
        #expect(unknown.stderr.contains("no batch 9"), "\(unknown.stderr)")

        let csv = try same(cli, database, ["reports", "year", "2025", "--csv"]).stdout
        for line in [
            "summary,cards,优待证,issued,2", "summary,verifications,核验,total,8", "summary,verifications,核验,offline,4",
            "category,veteran,退役军人,active,1", "category,martyr_family,烈属,issued,1", "shops_by_industry,vehicle_repair,车辆维修,active,2",
            "month,2025-01,1月,total,1", "month,2025-03,3月,total,1", "month,2025-04,4月,total,2", "area,星子镇,星子镇,total,2",
        ] {
            #expect(csv.contains(line + "\r\n"), "\(line) in \(csv)")
        }
        let lastYear = try same(cli, database, ["reports", "year", "2024", "--csv"]).stdout
        #expect(lastYear.contains("summary,cards,优待证,issued,2\r\n") && lastYear.contains("summary,verifications,核验,total,1\r\n"), "\(lastYear)")
        let empty = try same(cli, database, ["reports", "year", "2023"]).stdout
        #expect(empty.hasPrefix("year 2023 (active as of 2023-12-31): 0 cards issued, 0 active; 0 active shops; 0 verifications"), "\(empty)")
        let running = try same(cli, database, ["reports", "year", thisYear, "--csv"]).stdout
        #expect(running.contains("batch,1,第1批,applied,3\r\n") && running.contains("funnel,approved,开会通过,reached,1\r\n"), "\(running)")

        // The printable page: the same file from both stores (it carries only the day it was made).
        let fromSQLite = cli.workDirectory + "/sqlite.html"
        let fromPostgres = cli.workDirectory + "/postgres.html"
        #expect(try cli.run("reports", "year", "2025", "--html", fromSQLite).status == 0)
        let written = try cli.run(["reports", "year", "2025", "--html", fromPostgres], environment: ["YONGJUN_DATABASE": database])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fromPostgres)) == Data(contentsOf: URL(fileURLWithPath: fromSQLite)))

        let future = try cli.run(["reports", "year", String(Int(thisYear)! + 1)], environment: ["YONGJUN_DATABASE": database])
        #expect(future.status == 1 && future.stderr.contains("has not begun"))

        // Reports only read: the register and its audit log are as the copy left them, and the chain still verifies.
        #expect(try server.psql(database, registerRows) == before)
        let verified = try cli.run(["audit", "verify"], environment: ["YONGJUN_DATABASE": database])
        #expect(verified.status == 0 && verified.stdout.contains("audit log intact"), "\(verified.stdout)\(verified.stderr)")
    }
}
