import Foundation
import Testing

@Suite("store copy: a SQLite register into PostgreSQL", .timeLimit(.minutes(5)))
struct StoreCopyTests {
    /// A register made through the CLI: keys rotated once, two cards (one revoked), a shop with a key and a
    /// verification through `serve`, a batch whose approved application became a shop (the two name each other)
    /// and a rejected one. Returns the shop's API key.
    static func register(_ cli: CLI) async throws {
        let key = try cli.prepare()
        #expect(try cli.run("keys", "rotate").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("apply.csv", applicationsCSV(1...2))).status == 0)
        for _ in 0..<3 { #expect(try cli.run("applications", "advance", "1").status == 0) }
        #expect(try cli.run("applications", "reject", "2", "--reason", "材料不全").status == 0)
        #expect(try cli.run("batches", "approve", "1", "--meeting-date", "2026-11-20").status == 0)
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess(cli: cli)
        let answer = try await server.verify(code, key: key)
        #expect(answer["valid"] as? Bool == true)
        // Copying while a server writes would miss what it records next: refused.
        let during = try cli.run("store", "copy", "--to", try await PostgresServer.running().createDatabase())
        #expect(during.status == 1)
        #expect(during.stderr.contains("server is running"))
        #expect(server.stop() == 0)
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
    }

    func copy(_ cli: CLI, to url: String, json: Bool = true) throws -> (CLI.Result, [String: Any]) {
        let result = try cli.run(["store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", url] + (json ? ["--json"] : []))
        let object = json ? (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] : nil
        return (result, object ?? [:])
    }

    @Test("every table arrives with its rows, key ids and a verified audit chain; ids continue after SQLite's; key files are listed")
    func copiesWholeRegister() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        try await Self.register(cli)
        // COPY's text format must carry tabs, newlines, backslashes and what looks like its NULL through unchanged.
        let awkward = "SELECT 'a' || char(9) || 'b' || char(10) || 'c\\N\\d' || char(13) || ' 拥军'"
        try PostgresServer.run(
            "/usr/bin/sqlite3",
            [cli.dataDirectory + "/yongjun.sqlite", "INSERT INTO service_state VALUES ('awkward', (\(awkward)))"]
        )
        let server = try PostgresServer.running()
        let url = try await server.createDatabase()
        let (result, report) = try copy(cli, to: url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["ok"] as? Bool == true)
        #expect(report["committed"] as? Bool == true)
        let tables = report["tables"] as? [[String: Any]] ?? []
        let sqliteTables = try PostgresServer.run(
            "/usr/bin/sqlite3",
            [
                cli.dataDirectory + "/yongjun.sqlite",
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name != 'grdb_migrations'",
            ]
        )
        #expect(Set(tables.compactMap { $0["table"] as? String }) == Set(sqliteTables.split(separator: "\n").map(String.init)))
        #expect(tables.allSatisfy { $0["ok"] as? Bool == true })
        let rows = Dictionary(uniqueKeysWithValues: tables.map { ($0["table"] as? String ?? "", $0["target"] as? Int ?? -1) })
        #expect(rows["cards"] == 2)
        #expect(rows["merchants"] == 2)
        #expect(rows["applications"] == 2)
        #expect(rows["verifications"] == 1)
        let keys = report["signingKeys"] as? [String: Any]
        #expect((keys?["source"] as? [String])?.count == 2)
        #expect(keys?["ok"] as? Bool == true)
        #expect((report["audit"] as? [String: Any])?["ok"] as? Bool == true)
        let keyFiles = report["keyFiles"] as? [String] ?? []
        #expect(keyFiles.count == 4)
        #expect(keyFiles.contains(cli.dataDirectory + "/keys/audit.key"))

        // The rows themselves, and PostgreSQL's next shop id after SQLite's last.
        let sqliteIDs = try PostgresServer.run("/usr/bin/sqlite3", [cli.dataDirectory + "/yongjun.sqlite", "SELECT id FROM verifications"])
        #expect(try server.psql(url, "SELECT id FROM verifications") == sqliteIDs)
        #expect(try server.psql(url, "SELECT status FROM cards WHERE card_no = 'LZ0002'") == "revoked")
        let sqliteHex = try PostgresServer.run(
            "/usr/bin/sqlite3",
            [cli.dataDirectory + "/yongjun.sqlite", "SELECT lower(hex(value)) FROM service_state WHERE name = 'awkward'"]
        )
        #expect(try server.psql(url, "SELECT encode(convert_to(value, 'UTF8'), 'hex') FROM service_state WHERE name = 'awkward'") == sqliteHex)
        #expect(
            try server.psql(url, "SELECT count(*) FROM merchants m JOIN applications a ON a.merchant_id = m.id AND m.application_id = a.id") == "1"
        )
        #expect(try server.psql(url, "INSERT INTO merchants (name, industry, created_at) VALUES ('新店', 'other', 'now') RETURNING id") == "3")

        // The table a person reads says the same, and what to do with the key files.
        let text = try copy(cli, to: try await server.createDatabase(), json: false).0
        #expect(text.status == 0)
        #expect(text.stdout.contains("cards") && text.stdout.contains("ok"))
        #expect(text.stdout.contains("copy them to the data directory (--data-dir) of every instance"))
        #expect(text.stdout.contains(cli.dataDirectory + "/keys/id-hash.key"))
    }

    @Test("a target that already holds rows is refused and left as it was")
    func refusesNonEmptyTarget() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try PostgresServer.running()
        let url = try await server.createDatabase()
        #expect(try copy(cli, to: url).0.status == 0)
        let again = try copy(cli, to: url).0
        #expect(again.status == 1)
        #expect(again.stderr.contains("already holds rows ("))
        #expect(again.stderr.contains("cards: 2, merchants: 1"))
        #expect(again.stderr.contains("nothing was copied"))
        #expect(try server.psql(url, "SELECT count(*) FROM cards") == "2")
    }

    @Test("an audit entry edited in SQLite is named, and nothing is committed")
    func reportsTamperedAudit() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        try PostgresServer.run(
            "/usr/bin/sqlite3",
            [cli.dataDirectory + "/yongjun.sqlite", "UPDATE audit_log SET operator = 'someone else' WHERE seq = 2"]
        )
        let server = try PostgresServer.running()
        let url = try await server.createDatabase()
        let (result, report) = try copy(cli, to: url)
        #expect(result.status == 1)
        #expect(report["committed"] as? Bool == false)
        let problems = (report["audit"] as? [String: Any])?["problems"] as? [String] ?? []
        #expect(problems.first?.contains("audit log broken at entry 2") == true)
        #expect(result.stderr.contains("rolled back"))
        #expect(try server.psql(url, "SELECT count(*) FROM audit_log") == "0")
    }

    @Test("--from names a data directory or its database; anything else is refused with what to give")
    func refusesOtherSources() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let url = try await PostgresServer.running().createDatabase()
        let wrongScheme = try cli.run("store", "copy", "--from", cli.dataDirectory, "--to", url)
        #expect(wrongScheme.stderr.contains("--from must be sqlite:PATH"))
        let other = try cli.run("store", "copy", "--from", "sqlite:" + (try cli.write("other.sqlite", "x")), "--to", url)
        #expect(other.stderr.contains("is not a data directory's yongjun.sqlite"))
        let byFile = try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory + "/yongjun.sqlite", "--to", url)
        #expect(byFile.status == 0, "\(byFile.stderr)")
        let badURL = try cli.run("store", "copy", "--to", "postgres://u:topsecret@h:0/d")
        #expect(badURL.status == 1)
        #expect(badURL.stderr.contains("port '0'"))
        #expect(!badURL.stderr.contains("topsecret"))
    }
}
