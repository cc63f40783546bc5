import Foundation
import Testing
import YongjunCore

/// `audit list|reseal`, `keys …`, `merchants benefits`, `receipts verify`, `cards code|print` on a PostgreSQL store:
/// the same command on a SQLite register and on its copy in PostgreSQL prints the same.
@Suite("records commands on PostgreSQL", .timeLimit(.minutes(5)))
struct PostgresRecordsTests {
    /// A register on SQLite copied into a fresh PostgreSQL database; `env` names the copy.
    struct Pair {
        let cli: CLI
        let database: String
        let key: String
        var env: [String: String] { ["YONGJUN_DATABASE": database] }

        init(extraCards: String = "") async throws {
            cli = try CLI()
            key = try cli.prepare()
            if !extraCards.isEmpty {
                #expect(try cli.run("cards", "import", try cli.write("extra.csv", extraCards)).status == 0)
            }
            database = try await PostgresServer.running().createDatabase()
            let copy = try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database)
            #expect(copy.status == 0, "\(copy.stderr)")
        }

        /// The command on SQLite, then on PostgreSQL.
        func both(_ arguments: String...) throws -> (sqlite: CLI.Result, postgres: CLI.Result) {
            (try cli.run(arguments), try cli.run(arguments, environment: env))
        }

        func psql(_ sql: String) throws -> String { try PostgresServer.running().psql(database, sql) }
    }

    /// `audit list --json` without the times and hashes (the entries' own clocks differ between the two runs).
    static func auditColumns(_ result: CLI.Result) throws -> [String] {
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result.stderr)")
        return entries.map { entry in
            ["seq", "operatorName", "action", "subject", "details"].map { "\(entry[$0] ?? "-")" }.joined(separator: "|")
        }
    }

    @Test("benefit rules are set and shown alike on both stores; a bad file or unknown shop changes nothing and says the same")
    func benefitsAlike() async throws {
        let pair = try await Pair()
        defer { pair.cli.remove() }
        let rules = try pair.cli.write(
            "rules.csv",
            "categories,benefit,once_per_day,weekdays,valid_from,valid_until\nveteran,凭优待证享9折,yes,1-5,2026-01-01,2026-12-31\nall,免费洗车一次,no,6|7,,\n"
        )
        let set = try pair.both("merchants", "benefits", "1", "--set", rules)
        #expect(set.sqlite.status == 0, "\(set.sqlite.stderr)")
        #expect(set.postgres.status == 0, "\(set.postgres.stderr)")
        #expect(set.postgres.stdout == set.sqlite.stdout)
        #expect(set.postgres.stdout.contains("merchant 1: 2 rule(s) set") && set.postgres.stdout.contains("免费洗车一次"))
        #expect(
            try pair.psql("SELECT position, categories, once_per_day, weekdays, valid_until FROM benefit_rules ORDER BY position")
                == "0|veteran|1|1,2,3,4,5|2026-12-31\n1||0|6,7|"
        )
        let shown = try pair.both("merchants", "benefits", "1", "--json")
        #expect(shown.postgres.stdout == shown.sqlite.stdout && shown.postgres.stdout.contains("凭优待证享9折"), "\(shown.postgres.stderr)")

        let entries = try pair.psql("SELECT count(*) FROM audit_log")
        let broken = try pair.cli.write("broken.csv", "categories,benefit\nnobody,凭优待证享9折\n")
        for arguments in [
            ["merchants", "benefits", "1", "--set", broken], ["merchants", "benefits", "99", "--set", rules], ["merchants", "benefits", "99"],
        ] {
            let (sqlite, postgres) = (try pair.cli.run(arguments), try pair.cli.run(arguments, environment: pair.env))
            #expect(postgres.status == 1 && sqlite.status == 1)
            #expect(postgres.stderr == sqlite.stderr && !postgres.stderr.isEmpty, "\(arguments)")
        }
        #expect(try pair.psql("SELECT count(*) FROM audit_log") == entries, "a refused --set writes no entry")
        #expect(try pair.psql("SELECT count(*) FROM benefit_rules WHERE merchant_id = 1") == "2", "a refused --set keeps the rules")

        let whole = try pair.both("audit", "list", "--json")
        #expect(try Self.auditColumns(whole.postgres) == Self.auditColumns(whole.sqlite))
        let times = #/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/#
        let table = try pair.both("audit", "list")
        #expect(table.postgres.stdout.replacing(times, with: "T") == table.sqlite.stdout.replacing(times, with: "T"))
        #expect(table.postgres.stdout.hasPrefix("SEQ"), "\(table.postgres.stdout)")
        for limit in ["0", "-1"] {
            let edge = try pair.both("audit", "list", "--json", "--limit=\(limit)")
            #expect(edge.postgres.status == 0, "\(edge.postgres.stderr)")
            #expect(try Self.auditColumns(edge.postgres) == Self.auditColumns(edge.sqlite), "--limit \(limit)")
        }
        let listed = try pair.both("audit", "list", "--json", "--limit", "3")
        #expect(try Self.auditColumns(listed.postgres) == Self.auditColumns(listed.sqlite))
        #expect(try Self.auditColumns(listed.postgres).last?.contains("merchants.benefits|merchant 1") == true)
    }

    @Test("keys rotate audits into the named store, keys list reads it; audit reseal then audit verify passes on PostgreSQL")
    func keysAndReseal() async throws {
        let pair = try await Pair()
        defer { pair.cli.remove() }
        let before = try pair.both("keys", "list")
        #expect(before.postgres.stdout == before.sqlite.stdout && before.postgres.stderr.isEmpty, "\(before.postgres.stderr)")

        let rotated = try pair.cli.run(["keys", "rotate"], environment: pair.env)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let kid = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try pair.psql("SELECT action FROM audit_log WHERE subject = '\(kid)'") == "keys.rotate")
        let after = try pair.both("keys", "list")
        #expect(after.postgres.stdout == after.sqlite.stdout && after.postgres.stdout.contains(kid))
        #expect(after.postgres.stderr.isEmpty, "PostgreSQL holds the new key's entry: \(after.postgres.stderr)")
        #expect(after.sqlite.stderr.contains("signing key \(kid) has no audit entry"), "SQLite never saw the rotation")
        #expect(try pair.cli.run(["audit", "verify"], environment: pair.env).status == 0)

        // The same action on the SQLite register seals the shared head at its own entry: PostgreSQL's chain no longer
        // matches the head, until the operator reseals it from PostgreSQL's chain.
        #expect(try pair.cli.run("cards", "revoke", "LZ0002", "--reason", "遗失").status == 0)
        #expect(try pair.cli.run("merchants", "suspend", "1", "--reason", "整改").status == 0)
        #expect(try pair.cli.run(["cards", "revoke", "LZ0002", "--reason", "遗失"], environment: pair.env).status == 0)
        #expect(try pair.cli.run(["audit", "verify"], environment: pair.env).status == 1, "the head is SQLite's")
        let resealed = try pair.cli.run(["audit", "reseal"], environment: pair.env)
        #expect(resealed.status == 0, "\(resealed.stderr)")
        let count = try pair.psql("SELECT count(*) FROM audit_log")
        #expect(resealed.stdout.contains("audit.head sealed at entry \(count) (it was: sealed at entry"), "\(resealed.stdout)")
        #expect(try pair.psql("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 1") == "audit.reseal")
        let verified = try pair.cli.run(["audit", "verify"], environment: pair.env)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("audit log intact: \(count) entries"))

        // A broken chain is not resealed, and nothing is written.
        _ = try pair.psql("UPDATE audit_log SET subject = 'LZ9999' WHERE subject = 'LZ0002'")
        let refused = try pair.cli.run(["audit", "reseal"], environment: pair.env)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the chain itself is broken at entry") && refused.stderr.contains("nothing was changed"), "\(refused.stderr)")
        #expect(try pair.psql("SELECT count(*) FROM audit_log") == count)
    }

    @Test("keys init on an empty PostgreSQL store records the key there; a rotate before it is refused as on SQLite")
    func keysInit() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let database = try await PostgresServer.running().createDatabase()
        let env = ["YONGJUN_DATABASE": database]
        let early = try cli.run(["keys", "rotate"], environment: env)
        #expect(early.status == 1 && early.stdout.isEmpty)
        let created = try cli.run(["keys", "init"], environment: env)
        #expect(created.status == 0, "\(created.stderr)")
        let kid = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try PostgresServer.running().psql(database, "SELECT action, subject FROM audit_log") == "keys.init|\(kid)",
            "the one entry: the refused rotate wrote none"
        )
        #expect(!FileManager.default.fileExists(atPath: cli.dataDirectory + "/yongjun.sqlite"), "no SQLite register was made")
        let fresh = try CLI()
        defer { fresh.remove() }
        let onSQLite = try fresh.run("keys", "rotate")
        #expect(
            early.stderr.replacingOccurrences(of: cli.dataDirectory, with: "D")
                == onSQLite.stderr.replacingOccurrences(of: fresh.dataDirectory, with: "D")
        )
        let listed = try cli.run(["keys", "list"], environment: env)
        #expect(listed.stdout.contains(kid) && listed.stdout.contains("current") && listed.stderr.isEmpty, "\(listed.stderr)")
        #expect(try cli.run(["audit", "verify"], environment: env).status == 0)
    }

    @Test("codes issued on PostgreSQL verify at a server on the same database; revoked and expired cards are refused as on SQLite")
    func codesAndPrint() async throws {
        let extra = """
            card_no,name,id_number,category,valid_until,phone
            LZ0003,王五,\(CLI.idNumber("44188219700101789")),veteran,2099-12-31,
            LZ0004,赵六,\(CLI.idNumber("44188219700101890")),veteran,2099-12-31,

            """
        let pair = try await Pair(extraCards: extra)
        defer { pair.cli.remove() }
        let server = try ServerProcess(cli: pair.cli, extraArguments: ["--database", pair.database])
        defer { _ = server.stop() }
        var uri = ""
        for _ in 0..<50 where uri.isEmpty {
            uri = try pair.psql("SELECT value FROM service_state WHERE name = 'status_list_uri'")
            if uri.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(uri.hasPrefix("http"), "serve announced its status list in PostgreSQL")

        let issued = try pair.cli.run(["cards", "code", "LZ0003", "LZ0004"], environment: pair.env)
        #expect(issued.status == 0, "\(issued.stderr)")
        let codes = issued.stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 2)
        let twice = try pair.cli.run(["cards", "code", "LZ0003", "LZ0003"], environment: pair.env)
        #expect(twice.stdout.split(separator: "\n").count == 2, "a number given twice gets two codes, as on SQLite: \(twice.stderr)")
        let payload = String(decoding: try #require(Base64URL.decode(String(codes[0].split(separator: ".")[1]))), as: UTF8.self)
        #expect(
            payload.contains(uri.replacingOccurrences(of: "/", with: "\\/")) || payload.contains(uri),
            "the code names the status list: \(payload)"
        )
        #expect(try await server.client.verify(codes[0], key: pair.key).json["valid"] as? Bool == true)

        _ = try pair.both("cards", "revoke", "LZ0001", "--reason", "遗失")
        _ = try tamper(pair.cli, "UPDATE cards SET valid_until = '2020-06-30' WHERE card_no = 'LZ0002'")
        _ = try pair.psql("UPDATE cards SET valid_until = '2020-06-30' WHERE card_no = 'LZ0002'")
        let entries = try pair.psql("SELECT count(*) FROM audit_log")
        let out = pair.cli.workDirectory + "/refused.html"
        for arguments in [
            ["cards", "code", "LZ0003", "LZ0001"], ["cards", "code", "LZ0002"], ["cards", "code", "LZ0404"],
            ["cards", "print", "LZ0003", "LZ0002", "--out", out],
        ] {
            let (sqlite, postgres) = (try pair.cli.run(arguments), try pair.cli.run(arguments, environment: pair.env))
            #expect(postgres.status == 1 && sqlite.status == 1, "\(arguments)")
            #expect(postgres.stderr == sqlite.stderr && postgres.stdout.isEmpty, "\(arguments): \(postgres.stderr) vs \(sqlite.stderr)")
        }
        #expect(try pair.cli.run(["cards", "code", "LZ0001"], environment: pair.env).stderr.contains("card LZ0001 is revoked (遗失)"))
        #expect(try pair.cli.run(["cards", "code", "LZ0002"], environment: pair.env).stderr.contains("card LZ0002 expired on 2020-06-30"))
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try pair.psql("SELECT count(*) FROM audit_log") == entries, "a refused print writes no entry")

        let page = pair.cli.workDirectory + "/printed.html"
        let printed = try pair.cli.run(["cards", "print", "LZ0003", "LZ0004", "--out", page], environment: pair.env)
        #expect(printed.stdout == "wrote 2 printable credential(s) to \(page)\n", "\(printed.stderr)")
        #expect(try String(contentsOfFile: page, encoding: .utf8).components(separatedBy: "<section class=\"card\">").count == 3)
        #expect(try pair.psql("SELECT action, subject FROM audit_log ORDER BY seq DESC LIMIT 1") == "cards.print|LZ0003,LZ0004")
        #expect(try pair.cli.run(["audit", "verify"], environment: pair.env).status == 0)
    }

    @Test("a receipt checks out the same against the register on either store; a store without its record says so")
    func receiptsAlike() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        #expect(try cli.run("merchants", "benefits", "1", "--set", try cli.write("r.csv", "categories,benefit\nall,凭优待证享9折\n")).status == 0)
        let server = try ServerProcess(cli: cli)
        let session = try await cli.activateHolder("LZ0001", pin: "739146", on: server.client)
        let (code, _) = try await server.client.holderCode(session: session)
        #expect(try await server.client.verify(code, key: key).json["benefit"] as? String == "凭优待证享9折")
        let history = try await server.client.send("GET", "/api/v1/holder/history", headers: ["Cookie": "yj_session=\(session)"])
        let receipt = try #require((history.json["verifications"] as? [[String: Any]])?.compactMap { $0["receipt"] as? String }.first)
        #expect(server.stop() == 0)

        let database = try await PostgresServer.running().createDatabase()
        #expect(try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database).status == 0)
        let env = ["YONGJUN_DATABASE": database]
        let file = try cli.write("receipt.txt", receipt + "\n")
        let (sqlite, postgres) = (try cli.run("receipts", "verify", file), try cli.run(["receipts", "verify", file], environment: env))
        #expect(postgres.status == 0, "\(postgres.stderr)")
        #expect(postgres.stdout == sqlite.stdout && postgres.stdout.hasPrefix("genuine: 老兵汽修 (shop 1)"), "\(postgres.stdout)")

        // The record edited in PostgreSQL: the receipt no longer matches it there.
        _ = try PostgresServer.running().psql(database, "UPDATE verifications SET benefit = '凭优待证享5折' WHERE benefit IS NOT NULL")
        let edited = try cli.run(["receipts", "verify", file], environment: env)
        #expect(edited.status == 1 && edited.stderr.contains("DOES NOT MATCH the record: benefit 凭优待证享9折 (record: 凭优待证享5折)"), "\(edited.stderr)")
        let empty = try await PostgresServer.running().createDatabase()
        let missing = try cli.run(["receipts", "verify", file], environment: ["YONGJUN_DATABASE": empty])
        #expect(missing.status == 1 && missing.stderr.contains("NO RECORD"), "\(missing.stderr)")
    }

    @Test("10^4 codes from a numbers file on PostgreSQL take about as long as on SQLite (one query for the batch)")
    func manyCodes() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let numbers = (0..<10_000).map { "LZ8\(String(format: "%05d", $0))" }
        let rows = numbers.enumerated().map { index, number in
            "\(number),持证人\(index),\(CLI.idNumber("441882195\(index / 1000)0101" + String(format: "%03d", index % 1000))),veteran,2099-12-31,"
        }
        let file = try cli.write("cards.csv", "card_no,name,id_number,category,valid_until,phone\n" + rows.joined(separator: "\n") + "\n")
        #expect(try cli.run("cards", "import", file).status == 0)
        let database = try await PostgresServer.running().createDatabase()
        #expect(try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database).status == 0)
        let list = try cli.write("numbers.txt", numbers.joined(separator: "\n") + "\n")

        // Every statement outside a transaction commits one: a query per card would show as 10^4 of them.
        let commits = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        let server = try PostgresServer.running()
        let before = Int(try server.psql(database, commits)) ?? 0
        let clock = ContinuousClock()
        var sqlite = CLI.Result(status: -1, stdout: "", stderr: "")
        let onSQLite = try clock.measure { sqlite = try cli.run("cards", "code", "--numbers", list) }
        var postgres = CLI.Result(status: -1, stdout: "", stderr: "")
        let onPostgres = try clock.measure {
            postgres = try cli.run(["cards", "code", "--numbers", list], environment: ["YONGJUN_DATABASE": database])
        }
        #expect(postgres.status == 0, "\(postgres.stderr)")
        #expect(postgres.stdout.split(separator: "\n").count == 10_000 && sqlite.stdout.split(separator: "\n").count == 10_000)
        #expect(onPostgres < onSQLite * 2 + .seconds(2), "PostgreSQL \(onPostgres), SQLite \(onSQLite)")
        try await Task.sleep(for: .seconds(1))  // a closed connection's counts reach pg_stat_database shortly after
        let committed = (Int(try server.psql(database, commits)) ?? 0) - before
        #expect(committed > 0 && committed < 100, "\(committed) commits for one batch of 10^4 cards")
    }
}
