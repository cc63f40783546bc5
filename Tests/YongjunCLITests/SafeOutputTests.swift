import Foundation
import Testing

@Suite("Exports and terminal output the bureau can open safely, as processes", .timeLimit(.minutes(5)))
struct SafeOutputTests {
    static let formula = #"=HYPERLINK("http://x","点我")"#

    @Test("a formula typed into /apply or a cardholder name comes out of every CSV as text Excel will not run")
    func formulaCells() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let quoted = "\"" + Self.formula.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let cards = CLI.cardsCSV + "LZ0003,\(quoted),\(CLI.idNumber("44188219800101789")),veteran,2099-12-31,\n"
        let imported = try cli.run("cards", "import", try cli.write("cards.csv", cards))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try cli.run("batches", "open").status == 0)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let applied = try ApplyForm(server: server, cli: cli).submit(
            ApplyForm.fields(shop: Self.formula, code: creditCode(41), contact: "+8613800138000")
        )
        #expect(applied.status == 200, "\(applied.page)")

        let neutralised = "\"'" + Self.formula.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let report = try cli.run("reports", "batch", "1", "--csv").stdout
        let activation = cli.workDirectory + "/activation.csv"
        #expect(try cli.run("cards", "activation", "LZ0003", "--csv", activation).status == 0)
        let show = try cli.run("cards", "show", "LZ0003", "--csv").stdout
        for (name, csv) in [
            ("reports batch", report), ("cards activation", try String(contentsOfFile: activation, encoding: .utf8)), ("cards show", show),
        ] {
            #expect(csv.contains(neutralised), "\(name): \(csv)")
            #expect(!csv.contains(",\(Self.formula.prefix(10))") && !csv.contains(",\"=HYPERLINK"), "\(name) has a live formula")
        }
        let list = try cli.run("applications", "list", "--csv").stdout
        #expect(list.contains("'=HYPERLINK"))
        #expect(try !cli.run("applications", "show", "1", "--json").stdout.contains("'="), "JSON is data, not a spreadsheet: left as typed")
    }

    @Test("ESC and OSC bytes are refused at the door with the line, and escaped on the terminal if they got in anyway")
    func controlCharacters() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        let hostile = "坏店\u{1B}]0;pwned\u{07}\u{1B}[2J"
        let file = applicationsCSV(1...2).replacingOccurrences(of: "拥军商户2,", with: "\(hostile),")
        let refused = try cli.run("applications", "import", "--batch", "1", try cli.write("hostile.csv", file))
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 3: shop_name (门店名称) contains the control character U+001B"), "\(refused.stderr)")
        let cards = CLI.cardsCSV.replacingOccurrences(of: "李四", with: "李\u{1B}[31m四")
        #expect(
            try cli.run("cards", "import", try cli.write("cards.csv", cards)).stderr.contains(
                "line 3: name (姓名) contains the control character U+001B"
            )
        )

        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let form = try ApplyForm(server: server, cli: cli).submit(ApplyForm.fields(shop: hostile, code: creditCode(42)))
        #expect(form.status == 400)
        #expect(form.page.contains("U+001B"))

        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("ok.csv", applicationsCSV(1...1))).status == 0)
        try tamper(cli, "UPDATE applications SET shop_name = '坏店' || char(27) || ']0;pwned' || char(7) || char(155) || '2J' WHERE id = 1")
        for arguments in [["applications", "list"], ["applications", "show", "1"], ["reports", "batch", "1"], ["applications", "advance", "1"]] {
            let shown = try cli.run(arguments)
            #expect(shown.status == 0, "\(arguments)")
            #expect(
                !shown.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B },
                "\(arguments) printed raw control bytes"
            )
            #expect(shown.stdout.contains(#"坏店\x1B]0;pwned\x07\x9B2J"#), "\(arguments): \(shown.stdout)")
        }
    }
}
