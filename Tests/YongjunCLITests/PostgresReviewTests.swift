import Foundation
import Testing

/// `yongjun applications …` and `yongjun batches …` on a PostgreSQL store: the same answers as on SQLite, audited,
/// and bad input refused with the same message and nothing written.
@Suite("Applications and batches on PostgreSQL", .timeLimit(.minutes(5)))
struct PostgresReviewTests {
    /// One step of the workflow as a person sees it: exit status, stdout and stderr, with times and paths masked.
    struct Seen: Equatable, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let stdout: String
        let stderr: String

        var description: String { "\(arguments.joined(separator: " ")) → \(status)\n\(stdout)\(stderr)" }
    }

    /// Runs a command, masking what differs between two runs of the same data (timestamps, the temporary folder).
    static func run(_ cli: CLI, _ env: [String: String], _ arguments: [String]) throws -> Seen {
        let result = try cli.run(arguments, environment: env)
        func mask(_ text: String) -> String {
            text.replacingOccurrences(of: cli.workDirectory, with: "<dir>")
                .replacingOccurrences(of: #"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"#, with: "<time>", options: .regularExpression)
        }
        return Seen(arguments: arguments.map(mask), status: result.status, stdout: mask(result.stdout), stderr: mask(result.stderr))
    }

    /// An applications file with the shops numbered `indices` (see `applicationsCSV`).
    static func csv(_ indices: [Int]) -> String {
        let header = applicationsCSV(1...1).components(separatedBy: "\r\n")[0]
        return ([header] + indices.map { applicationsCSV($0...$0).components(separatedBy: "\r\n")[1] }).joined(separator: "\r\n") + "\r\n"
    }

    /// Seven applications (the seventh reuses the first one's credit code with another phone), five stages, two
    /// rejections, a partial approval, and every kind of bad input on the way. `unchanged` runs each bad step and
    /// checks that it wrote nothing.
    static func workflow(_ cli: CLI, _ env: [String: String], unchanged: (() throws -> Seen) throws -> Seen) throws -> [Seen] {
        var seen: [Seen] = []
        func step(_ arguments: [String]) throws { seen.append(try run(cli, env, arguments)) }
        func step(_ arguments: String...) throws { try step(arguments) }
        func bad(_ arguments: String...) throws {
            let result = try unchanged { try run(cli, env, arguments) }
            #expect(result.status != 0, "\(result)")
            seen.append(result)
        }
        let first = try cli.write("batch1.csv", applicationsCSV(1...6))
        let same = "拥军商户一号店,\(creditCode(1)),餐饮,连州市北湖路1号,冒名者,13999999999,凭优待证享8折"
        let late = try cli.write("late.csv", applicationsCSV(1...1).components(separatedBy: "\r\n")[0] + "\r\n" + same + "\r\n")
        try step("batches", "open")
        try bad("applications", "import", "--batch", "9", first)
        try step("applications", "import", "--batch", "1", first)
        try step("applications", "import", "--batch", "1", late)
        for id in 1...4 {
            for stage in ["qualification", "inspection", "discussion"] {
                try step("applications", "advance", String(id), "--note", "通过\(stage)", "--operator", "李科员")
            }
        }
        try step("applications", "advance", "5")
        try step("applications", "reject", "7", "--stage", "materials", "--reason", "冒用统一社会信用代码")
        try step("applications", "reject", "5", "--stage", "资格审核", "--reason", "资料不全")
        try bad("applications", "advance", "99")
        try bad("applications", "advance", "1")
        try bad("applications", "advance", "7")
        try bad("applications", "reject", "2", "--stage", "materials", "--reason", "x")
        try bad("applications", "reject", "5", "--reason", "again")
        try bad("applications", "show", "99")
        try bad("batches", "open")
        try bad("batches", "show", "9")
        try bad("batches", "approve", "1", "--meeting-date", "2026-08-06", "--only", "1,6")
        try bad("batches", "approve", "1", "--meeting-date", "2026-08-06", "--only", "99")
        try bad("batches", "approve", "9", "--meeting-date", "2026-08-06")
        for view in [["--json"], ["--csv"], []] {
            try step(["applications", "list"] + view)
            try step(["applications", "show", "1"] + view)
            try step(["batches", "list"] + view)
            try step(["batches", "show", "1"] + view)
        }
        try step("applications", "show", "7")
        try step("applications", "list", "--batch", "1", "--stage", "discussion")
        try step("applications", "list", "--stage", "rejected", "--industry", "餐饮", "--json")
        try step("batches", "close", "1")
        try bad("batches", "close", "1")
        try bad("applications", "import", "--batch", "1", first)
        try step("batches", "approve", "1", "--meeting-date", "2026-08-06", "--only", "1,2,3")
        try bad("batches", "approve", "1", "--meeting-date", "2026-08-07")
        try step("batches", "open")
        // Shop 1 is a partner now; 4 is still under review in batch 1.
        try bad("applications", "import", "--batch", "2", try cli.write("batch2.csv", csv([1, 4, 5])))
        try bad("batches", "approve", "2", "--meeting-date", "2026-12-10")
        try step("applications", "import", "--batch", "2", try cli.write("batch2b.csv", csv([5, 8, 9])))
        try step("applications", "show", "8")
        for view in [["--json"], []] {
            try step(["merchants", "list"] + view)
            try step(["batches", "list"] + view)
            try step(["applications", "list", "--batch", "2"] + view)
        }
        try step("applications", "show", "3", "--json")
        return seen
    }

    @Test("the batch workflow prints the same on SQLite and PostgreSQL; each write is audited there and audit verify passes")
    func sameAsSQLite() async throws {
        let sqlite = try CLI()
        let postgres = try CLI()
        defer {
            sqlite.remove()
            postgres.remove()
        }
        let server = try PostgresServer.running()
        let database = try await server.createDatabase()
        let env = ["YONGJUN_DATABASE": database]
        #expect(try sqlite.run("keys", "init").status == 0)
        // The PostgreSQL register starts as a copy of a new SQLite one: its signing key's keys.init entry with it.
        #expect(try postgres.run("keys", "init").status == 0)
        #expect(try postgres.run("store", "copy", "--from", "sqlite:" + postgres.dataDirectory, "--to", database).status == 0)

        let onSQLite = try Self.workflow(sqlite, [:]) { try $0() }
        func register() throws -> String {
            try [
                "SELECT count(*) FROM audit_log", "SELECT count(*) FROM application_events", "SELECT count(*) FROM merchants",
                "SELECT string_agg(number || ':' || status || ':' || coalesce(meeting_date, '-'), ',' ORDER BY number) FROM batches",
                "SELECT string_agg(id || ':' || stage || ':' || updated_at, ',' ORDER BY id) FROM applications",
            ].map { try server.psql(database, $0) }.joined(separator: "\n")
        }
        let onPostgres = try Self.workflow(postgres, env) { body in
            let before = try register()
            let result = try body()
            #expect(try register() == before, "\(result.arguments) wrote to the register")
            return result
        }
        #expect(onSQLite.count == onPostgres.count)
        for (lite, pg) in zip(onSQLite, onPostgres) { #expect(lite == pg) }
        #expect(onPostgres.contains { $0.stdout.contains("batch 1: 7 applied → 3 approved (meeting 2026-08-06)") })

        // The audit log holds the same entries as SQLite's, and checks out against the register.
        let sqliteEntries = try JSONSerialization.jsonObject(with: Data(try sqlite.run("audit", "list", "--json").stdout.utf8)) as? [[String: Any]]
        let expected = (sqliteEntries ?? []).filter { $0["action"] as? String != "keys.init" }
            .map { "\($0["action"] as? String ?? "")|\($0["subject"] as? String ?? "")|\($0["details"] as? String ?? "")" }
        #expect(expected.filter { $0.hasPrefix("applications.advance|") }.count == 13, "\(expected)")
        #expect(expected.contains { $0.hasPrefix("batches.approve|batch 1|") && $0.contains("\"merchants\":\"1,2,3\"") }, "\(expected)")
        let entries = try server.psql(
            database,
            "SELECT action || '|' || subject || '|' || details FROM audit_log WHERE action != 'keys.init' ORDER BY seq"
        )
        #expect(entries == expected.joined(separator: "\n"))
        let verified = try postgres.run(["audit", "verify"], environment: env)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("audit log intact"), "\(verified.stdout)")
        #expect(try server.psql(database, "SELECT count(*) FROM benefit_rules WHERE benefit = '凭优待证享9折'") == "3")

        // A stage changed behind Yongjun's back is named by audit verify.
        _ = try server.psql(database, "UPDATE applications SET stage = 'discussion' WHERE id = 5")
        let edited = try postgres.run(["audit", "verify"], environment: env)
        #expect(edited.status == 1)
        #expect(edited.stderr.contains("id 5"), "\(edited.stderr)")
    }
}
