import Foundation
import Testing

@Suite("yongjun keys and cards, run as a process", .timeLimit(.minutes(2)))
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
