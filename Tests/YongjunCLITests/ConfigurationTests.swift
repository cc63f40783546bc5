import Foundation
import Testing

/// Settings through the real binary: the contract the bureau's scripts depend on (names, precedence, sources,
/// messages), and that no password or token is ever printed.
@Suite("Settings: flags > YONGJUN_* > config file > defaults, with sources and secrets hidden", .timeLimit(.minutes(5)))
struct ConfigurationTests {
    typealias Shown = [String: (value: String, source: String)]

    /// `config show --json` as key → (value, source); fails the test if the command fails.
    func show(_ cli: CLI, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> Shown {
        let result = try cli.run(["config", "show", "--json"] + arguments, environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]] ?? []
        #expect(rows.allSatisfy { Set($0.keys) == ["key", "value", "source"] }, "\(result.stdout)")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] ?? "", ($0["value"] ?? "", $0["source"] ?? "")) })
    }

    @Test("one key from each of the four sources: a flag beats YONGJUN_*, which beats the file, which beats the default")
    func precedence() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let file = try cli.write("yongjun.conf", "port = 7001\n")
        #expect(try show(cli)["port"]! == ("8080", "default"))
        #expect(try show(cli, ["--config", file])["port"]! == ("7001", "file"))
        #expect(try show(cli, ["--config", file], environment: ["YONGJUN_PORT": "7002"])["port"]! == ("7002", "environment"))
        #expect(try show(cli, ["--config", file, "--port", "7003"], environment: ["YONGJUN_PORT": "7002"])["port"]! == ("7003", "flag"))
        // YONGJUN_CONFIG names the file as --config does.
        #expect(try show(cli, environment: ["YONGJUN_CONFIG": file])["port"]! == ("7001", "file"))
    }

    @Test("config show lists every setting once with its source, as a table and as JSON rows {key, value, source}")
    func showsEverySetting() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let file = try cli.write("yongjun.conf", "host = 0.0.0.0\n")
        let environment = ["YONGJUN_LOG_LEVEL": "debug"]
        let rows = try show(cli, ["--config", file, "--rate-limit", "5"], environment: environment)
        let keys = [
            "host", "port", "data_dir", "code_lifetime", "log_level", "tls_certificate", "tls_key", "trusted_proxy", "rate_limit",
            "form_rate_limit", "short_code_guess_limit", "short_code_global_guess_limit", "read_timeout", "idle_timeout",
            "max_connections", "drain_timeout", "pin_hash_threads", "pin_hash_queue", "public_url", "status_list_ttl",
            "offline_max_age", "admin_host", "admin_port", "metrics_token", "database_url",
        ]
        #expect(Set(rows.keys) == Set(keys))
        #expect(rows["rate_limit"]! == ("5", "flag"))
        #expect(rows["log_level"]! == ("debug", "environment"))
        #expect(rows["host"]! == ("0.0.0.0", "file"))
        #expect(rows["database_url"]! == ("", "default"))

        let table = try cli.run(["config", "show", "--config", file, "--rate-limit", "5"], environment: environment)
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["SETTING", "VALUE", "SOURCE"])
        #expect(lines.contains(["rate_limit", "5", "flag"]))
        #expect(lines.contains(["log_level", "debug", "environment"]))
        #expect(lines.contains(["host", "0.0.0.0", "file"]))
        #expect(lines.contains(["code_lifetime", "180", "default"]))
        #expect(lines.count == keys.count + 1)
    }

    @Test("a bad value names the setting and where it came from: flag, YONGJUN_* variable or the file")
    func badValueNamesItsSource() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let file = try cli.write("bad.conf", "# limits\nport = 99999\n")
        let message = "port must be a whole number from 0 to 65535"
        let fromFlag = try cli.run("config", "show", "--port", "99999")
        #expect(fromFlag.status == 1)
        #expect(fromFlag.stderr.contains("--port=99999: \(message)"), "\(fromFlag.stderr)")
        let fromEnvironment = try cli.run(["config", "show"], environment: ["YONGJUN_PORT": "99999"])
        #expect(fromEnvironment.status == 1)
        #expect(fromEnvironment.stderr.contains("YONGJUN_PORT=99999: \(message)"), "\(fromEnvironment.stderr)")
        let fromFile = try cli.run("config", "show", "--config", file)
        #expect(fromFile.status == 1)
        #expect(fromFile.stderr.contains("port in \(file)=99999: \(message)"), "\(fromFile.stderr)")
        // serve refuses the same value before it listens.
        let serve = try cli.run(["serve", "--admin-port", "nine"])
        #expect(serve.status == 1)
        #expect(serve.stderr.contains("--admin-port=nine: admin_port must be off or a whole number from 0 to 65535"), "\(serve.stderr)")
        // A flag hides the file's bad value: only the value in effect is parsed, as before swift-configuration.
        #expect(try show(cli, ["--config", file, "--port", "7003"])["port"]! == ("7003", "flag"))
    }

    @Test("the config file: # inside quotes is kept, after them it is a comment; unknown keys and open quotes name the line")
    func fileFormat() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let good = try cli.write(
            "good.conf",
            "# Yongjun\n\nadmin_host = \"lab#1\"   # a # after the quotes is a comment\n  port=7005\ntrusted_proxy = 10.0.0.1 # nginx\n"
        )
        let rows = try show(cli, ["--config", good])
        #expect(rows["admin_host"]! == ("lab#1", "file"))
        #expect(rows["port"]! == ("7005", "file"))
        #expect(rows["trusted_proxy"]! == ("10.0.0.1", "file"))

        let unknown = try cli.write("unknown.conf", "port = 1\n# fine\nprot = 2\n")
        let unknownResult = try cli.run("config", "show", "--config", unknown)
        #expect(unknownResult.status == 1)
        #expect(unknownResult.stderr.contains("\(unknown) line 3: unknown setting \"prot\""), "\(unknownResult.stderr)")
        let open = try cli.write("open.conf", "port = 1\nhost = \"0.0.0.0 # no closing quote\n")
        let openResult = try cli.run("config", "show", "--config", open)
        #expect(openResult.status == 1)
        #expect(openResult.stderr.contains("\(open) line 2: a quote is opened but not closed"), "\(openResult.stderr)")
        let noEquals = try cli.write("noequals.conf", "port 8080\n")
        let noEqualsResult = try cli.run("config", "show", "--config", noEquals)
        #expect(noEqualsResult.status == 1)
        #expect(noEqualsResult.stderr.contains("\(noEquals) line 1: expected key = value"), "\(noEqualsResult.stderr)")
        let missing = try cli.run("config", "show", "--config", cli.workDirectory + "/absent.conf")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read config file"))
    }

    @Test("the database password is hidden in the table, the JSON and every error message, from every source")
    func databasePasswordHidden() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let address = "postgres://yongjun:pa55word@db.example:5432/yongjun?sslmode=disable"
        let redacted = "postgres://yongjun:********@db.example:5432/yongjun?sslmode=disable"
        let file = try cli.write("db.conf", "database_url = \"\(address)\" # the shared store\n")
        #expect(try show(cli, ["--database", address])["database_url"]! == (redacted, "flag"))
        #expect(try show(cli, ["--database-url", address])["database_url"]! == (redacted, "flag"))
        #expect(try show(cli, environment: ["YONGJUN_DATABASE": address])["database_url"]! == (redacted, "environment"))
        #expect(try show(cli, ["--config", file])["database_url"]! == (redacted, "file"))
        // Before the subcommand, --database reaches config show through YONGJUN_DATABASE.
        let hoisted = try cli.run("--database", address, "config", "show")
        #expect(hoisted.stdout.split(separator: "\n").contains { $0.split(separator: " ") == ["database_url", "\(redacted)", "environment"] })
        #expect(!hoisted.stdout.contains("pa55word"))
        // A socket directory in the query is allowed; a password= parameter is hidden too.
        let socket = "postgresql://yongjun@/yongjun?host=/run/postgresql&password=pa55word"
        #expect(
            try show(cli, ["--database", socket])["database_url"]!.value == "postgresql://yongjun@/yongjun?host=/run/postgresql&password=********"
        )

        let bad: [(arguments: [String], environment: [String: String], message: String)] = [
            (
                ["--database", "mysql://yongjun:pa55word@db/yongjun"], [:],
                "--database=mysql://yongjun:********@db/yongjun: database_url must start with postgres://"
            ),
            (
                ["--database-url", "postgres://yongjun:pa55word@db:5432/"], [:],
                "--database-url=postgres://yongjun:********@db:5432/: database_url must name the database"
            ),
            (
                [], ["YONGJUN_DATABASE": "postgres://yongjun:pa55word@db:99999/yongjun"],
                "YONGJUN_DATABASE=postgres://yongjun:********@db:99999/yongjun: database_url port"
            ),
            (
                ["--config", try cli.write("bad.conf", "database_url = yongjun:pa55word@db/yongjun\n")], [:],
                "database_url in \(cli.workDirectory)/bad.conf=yongjun:********@db/yongjun: database_url must start with"
            ),
            (["--database", "postgres://yongjun:pa55@word@[db/yongjun"], [:], "database_url host '[db' is not a name"),
            // Accepted by the old setting check, refused by the store when serve connected: one parser now says so at once.
            (["--database", "postgres://yongjun:pa55word@db/yongjun?connect_timeout=3"], [:], "database_url has an unknown parameter"),
            (["--database", "postgres://db/yongjun"], [:], "database_url has no user name"),
        ]
        for (arguments, environment, message) in bad {
            for command in [["config", "show"], ["serve"]] {
                let result = try cli.run(command + arguments, environment: environment)
                #expect(result.status == 1, "\(arguments)")
                #expect(result.stderr.contains(message), "\(result.stderr)")
                #expect(!(result.stdout + result.stderr).contains("pa55"), "\(result.stderr)")
            }
        }
    }

    @Test("the metrics token is never printed: not by config show, not in an error, not in swift-configuration's access log")
    func secretNeverPrinted() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let token = "t0ken-\(UUID().uuidString)"
        let file = try cli.write("token.conf", "metrics_token = \"\(token)\"\ndatabase_url = postgres://yongjun:pa55word@db/yongjun\n")
        let accessLog = cli.workDirectory + "/access.log"
        let environment = ["YONGJUN_METRICS_TOKEN": token, "CONFIG_ACCESS_LOG_FILE": accessLog]
        for arguments in [["--config", file], ["--config", file, "--json"]] {
            let fromFile = try cli.run(["config", "show"] + arguments)
            let fromEnvironment = try cli.run(["config", "show"] + arguments, environment: environment)
            for result in [fromFile, fromEnvironment] {
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout.contains("******** (hidden)"))
                #expect(!(result.stdout + result.stderr).contains(token))
            }
        }
        let rows = try show(cli, environment: ["YONGJUN_METRICS_TOKEN": token])
        #expect(rows["metrics_token"]! == ("******** (hidden)", "environment"))
        // An error elsewhere in the same run does not repeat the token either.
        let failed = try cli.run(["serve", "--config", file, "--port", "x"], environment: environment)
        #expect(failed.status == 1)
        #expect(!(failed.stdout + failed.stderr).contains(token))
        let log = try String(contentsOfFile: accessLog, encoding: .utf8)
        #expect(log.contains("metrics_token -> \"<REDACTED>\""), "\(log)")
        #expect(log.contains("database_url -> \"<REDACTED>\""), "\(log)")
        #expect(!log.contains(token) && !log.contains("pa55word"))
    }
}
