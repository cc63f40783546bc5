import Foundation
import Testing

/// `cards import` into a PostgreSQL store: the same answers as on SQLite, through COPY.
@Suite("cards import on PostgreSQL", .timeLimit(.minutes(5)))
struct PostgresImportTests {
    @Test("new, changed and unchanged cards are counted as on SQLite; a dry run writes nothing; a revocation survives a re-import")
    func importLikeSQLite() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let database = try await PostgresServer.running().createDatabase()
        let env = ["YONGJUN_DATABASE": database]
        let server = try PostgresServer.running()
        var rows = (0..<300).map { index in
            "LZ9\(String(format: "%05d", index)),持证人\(index),\(CLI.idNumber(String(format: "44188219600101%03d", index))),veteran,2099-12-31,"
        }
        let header = "card_no,name,id_number,category,valid_until,phone\n"
        let first = try cli.write("first.csv", header + rows.joined(separator: "\n") + "\n")

        let dry = try cli.run(["cards", "import", first, "--dry-run"], environment: env)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("300 new"), "\(dry.stdout)")
        #expect(try server.psql(database, "SELECT count(*) FROM cards") == "0", "a dry run writes nothing")

        let imported = try cli.run(["cards", "import", first], environment: env)
        #expect(imported.stdout.contains("imported 300 card(s): 300 new, 0 updated, 0 unchanged"), "\(imported.stdout)\(imported.stderr)")
        #expect(try server.psql(database, "SELECT count(DISTINCT status_idx), count(DISTINCT id) FROM cards") == "300|300")
        #expect(try server.psql(database, "SELECT count(*) FROM audit_log WHERE action = 'cards.import'") == "1")
        // The first import into an empty register drops two indexes and builds them again: all four are back.
        #expect(
            try server.psql(database, "SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'cards'")
                == "cards_card_no_key cards_id_number_hash cards_pkey cards_status_idx"
        )
        #expect(try server.psql(database, "SELECT bool_and(id ~ '^[a-km-np-z2-9]{16}$') FROM cards") == "t")

        #expect(try cli.run(["cards", "revoke", "LZ900007", "--reason", "遗失"], environment: env).status == 0)
        rows[3] = rows[3].replacingOccurrences(of: "2099-12-31", with: "2098-06-30")
        rows.append("LZ9ABCDE,新持证人,\(CLI.idNumber("44188219700101999")),military_family,2099-12-31,13800000000")
        let second = try cli.write("second.csv", header + rows.joined(separator: "\n") + "\n")
        let again = try cli.run(["cards", "import", second], environment: env)
        #expect(again.stdout.contains("imported 301 card(s): 1 new, 1 updated, 299 unchanged"), "\(again.stdout)\(again.stderr)")
        #expect(try server.psql(database, "SELECT valid_until FROM cards WHERE card_no = 'LZ900003'") == "2098-06-30")
        #expect(
            try server.psql(database, "SELECT status FROM cards WHERE card_no = 'LZ900007'") == "revoked",
            "a re-import never undoes a revocation"
        )
        let shown = try cli.run(["cards", "show", "LZ900007"], environment: env).stdout
        #expect(shown.contains("revoked — 遗失") && shown.contains("持证人7"), "cards show reads the PostgreSQL store: \(shown)")

        // The same files on SQLite give the same counts.
        #expect(try cli.run("cards", "import", first).stdout.contains("300 new, 0 updated, 0 unchanged"))
        #expect(try cli.run("cards", "import", second).stdout.contains("1 new, 1 updated, 299 unchanged"))
    }

    @Test("audit verify on PostgreSQL: a register moved over and changed there checks out; a direct edit is named")
    func auditVerifyOnPostgres() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let database = try await PostgresServer.running().createDatabase()
        let env = ["YONGJUN_DATABASE": database]
        #expect(try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database).status == 0)
        #expect(try cli.run(["cards", "revoke", "LZ0002", "--reason", "遗失"], environment: env).status == 0)
        #expect(try cli.run(["merchants", "suspend", "1", "--reason", "整改"], environment: env).status == 0)
        let intact = try cli.run(["audit", "verify"], environment: env)
        #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
        #expect(intact.stdout.contains("audit log intact"))
        try PostgresServer.running().psql(database, "UPDATE cards SET status = 'active', revoked_at = NULL WHERE card_no = 'LZ0002'")
        let edited = try cli.run(["audit", "verify"], environment: env)
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("LZ0002"), "\(edited.stderr)")
    }

    @Test("an unreachable PostgreSQL stops serve and a command at once, naming database_url and never the password")
    func unreachableStore() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let port = try OccupiedPort.freePort()
        let url = "postgres://yongjun:s3cret-pw@127.0.0.1:\(port)/yongjun"
        let started = ContinuousClock.now
        for arguments in [["serve", "--port", "0", "--admin-port", "off"], ["cards", "revoke", "LZ0001", "--reason", "遗失"]] {
            let result = try cli.run(arguments, environment: ["YONGJUN_DATABASE": url])
            #expect(result.status == 1)
            #expect(result.stderr.contains("database_url postgres://yongjun:"), "\(result.stderr)")
            #expect(result.stderr.contains("Connection refused"), "\(result.stderr)")
            #expect(!result.stderr.contains("s3cret-pw") && !result.stdout.contains("s3cret-pw"))
        }
        #expect(ContinuousClock.now - started < .seconds(30), "neither waited for a pool that would retry for ever")
    }
}
