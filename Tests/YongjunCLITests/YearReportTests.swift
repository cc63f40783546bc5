import Foundation
import Testing
import YongjunCore

/// Shops of the test's batches: name, industry, address, and the town the report should file them under.
private let yearShops: [(name: String, industry: String, address: String, area: String)] = [
    ("连州镇老兵饭店", "catering", "连州市连州镇中山路1号", "连州镇"),
    ("西江镇汽修", "vehicle_repair", "连州市西江镇西江路2号", "西江镇"),
    ("保安镇百货", "daily_goods", "连州市保安镇圩镇3号", "保安镇"),
    ("城南百货", "daily_goods", "连州市镇南路6号", "其他"),
    ("瑶乡餐厅", "catering", "清远市连州市三水瑶族乡5号", "三水瑶族乡"),
    ("慧光书店", "other", "连州市慧光街道北湖路4号", "慧光街道"),
    ("星子镇车行", "vehicle_repair", "连州市星子镇7号", "星子镇"),
    ("东陂镇小食 <&\"店>", "catering", "连州市东陂镇镇南街8号", "东陂镇"),
    ("西岸镇超市", "daily_goods", "连州市西岸镇9号", "西岸镇"),
    ("大路边镇饭店", "catering", "连州市大路边镇10号", "大路边镇"),
    ("连州镇书社", "other", "连州市连州镇11号", "连州镇"),
    ("九陂镇修车", "vehicle_repair", "连州市九陂镇12号", "九陂镇"),
]

private func yearApplicationsCSV(_ indices: ClosedRange<Int>) -> String {
    let rows = indices.map { index in
        let shop = yearShops[index - 1]
        let name = shop.name.contains("\"") ? "\"" + shop.name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : shop.name
        return "\(name),\(creditCode(500 + index)),\(shop.industry),\(shop.address),联系人\(index),1380013\(String(format: "%04d", index)),凭优待证享9折"
    }
    return (["shop_name,credit_code,industry,address,contact,phone,benefit"] + rows).joined(separator: "\r\n") + "\r\n"
}

@Suite("The bureau's yearly figures, checked against sqlite3 and rendered in Chromium", .timeLimit(.minutes(5)))
struct YearReportTests {
    @Test("reports year: every figure equals what sqlite3 counts in the register; China-time year edges; the HTML prints on A4")
    func yearReport() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let year = CalendarDate(chinaDayOf: Date()).year
        #expect(try cli.run("keys", "init").status == 0)

        // Cards: one of every category the register knows (a category added later is covered too), an expired one, a revoked one.
        let categories = CardCategory.allCases.map(\.rawValue) + ["veteran", "veteran", "military_family", "veteran", "martyr_family"]
        var cardRows = ["card_no,name,id_number,category,valid_until,phone,disability_grade"]
        for (index, category) in categories.enumerated() {
            let until = index == categories.count - 1 ? "2025-06-30" : "2099-12-31"
            let grade = category == "disabled_serviceman" ? "二级" : ""
            let id = CLI.idNumber("44188219650312" + String(format: "%03d", index))
            cardRows.append("LZ\(1000 + index),持证人\(index),\(id),\(category),\(until),,\(grade)")
        }
        let imported = try cli.run("cards", "import", try cli.write("cards.csv", cardRows.joined(separator: "\n") + "\n"))
        #expect(imported.status == 0, "\(imported.stderr)")
        let cardNumbers = categories.indices.map { "LZ\(1000 + $0)" }

        // Batch 1: 8 applications, 3 rejected at different stages, 5 approved; batch 2: 4 at various stages.
        #expect(try cli.run("batches", "open").stdout == "1\n")
        let batchOne = try cli.run("applications", "import", "--batch", "1", try cli.write("b1.csv", yearApplicationsCSV(1...8)))
        #expect(batchOne.status == 0, "\(batchOne.stderr)")
        for (id, advances, stage) in [(2, 0, "materials"), (3, 1, "qualification"), (4, 2, "inspection")] {
            for _ in 0..<advances { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
            #expect(try cli.run("applications", "reject", String(id), "--stage", stage, "--reason", "不符合条件").status == 0)
        }
        for id in [1, 5, 6, 7, 8] {
            for _ in 0..<3 { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
        }
        let approved = try cli.run("batches", "approve", "1", "--meeting-date", "\(year)-03-06")
        #expect(approved.stdout.contains("8 applied → 5 approved"), "\(approved.stderr)")
        #expect(try cli.run("batches", "close", "1").status == 0)
        #expect(try cli.run("batches", "open").stdout == "2\n")
        #expect(try cli.run("applications", "import", "--batch", "2", try cli.write("b2.csv", yearApplicationsCSV(9...12))).status == 0)
        for (id, advances) in [(9, 3), (10, 1)] {
            for _ in 0..<advances { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
        }
        #expect(try cli.run("applications", "reject", "11", "--reason", "资料不全").status == 0)

        // Shops: the five approved (ids 1–5), one added directly; one suspended.
        let direct = try cli.run("merchants", "add", "--name", "城西修车", "--industry", "vehicle_repair", "--address", "连州市镇南路13号")
        #expect(direct.stdout == "6\n", "\(direct.stderr)")
        var areas: [Int: String] = [6: "其他"]
        for (index, shopIndex) in [1, 5, 6, 7, 8].enumerated() { areas[index + 1] = yearShops[shopIndex - 1].area }
        var keys: [Int: String] = [:]
        for id in 1...6 { keys[id] = try cli.run("merchants", "key", String(id)).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try cli.run("merchants", "suspend", "4", "--reason", "门店装修").status == 0)

        // Verifications through the running server: valid ones at several shops, used twice, a revoked card, garbage.
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let client = server.client
        let codes = try cli.run(["cards", "code"] + cardNumbers.prefix(7)).stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 7)
        let revokedCode = codes[1]
        #expect(try cli.run("cards", "revoke", cardNumbers[1], "--reason", "证件遗失").status == 0)
        let plan: [(card: Int, shops: [Int])] = [(0, [1, 2, 3, 5]), (2, [1, 2, 3]), (3, [1, 2]), (4, [1]), (5, [6]), (6, [1, 6])]
        for (card, shops) in plan {
            for shop in shops { #expect(try await client.verify(codes[card], key: keys[shop]!).json["valid"] as? Bool == true) }
        }
        #expect(try await client.verify(codes[0], key: keys[1]!).reason == "already_used_here")
        #expect(try await client.verify(revokedCode, key: keys[2]!).reason == "card_revoked")
        #expect(try await client.verify("not-a-code", key: keys[3]!).json["valid"] as? Bool == false)

        // Offline: shop 5's device syncs, checks two holders without the network, and uploads.
        let kit = cli.workDirectory + "/kit"
        #expect(try cli.run("shop", "sync", "--server", server.baseURL.absoluteString, "--key", keys[5]!, "--dir", kit).status == 0)
        let fresh = try cli.run("cards", "code", cardNumbers[7], cardNumbers[8]).stdout.split(separator: "\n").map(String.init)
        for code in fresh { #expect(try cli.run("shop", "verify", code, "--dir", kit).status == 0) }
        let uploaded = try cli.run("shop", "upload", "--dir", kit)
        #expect(uploaded.status == 0, "\(uploaded.stderr)")

        // Year edges in China time: a card issued at 00:30 on 1 January counts in the new year, one at 23:30 on
        // 31 December in the old; a verification at 23:59:59 on 31 December of last year is last year's.
        try tamper(cli, "UPDATE cards SET created_at = '\(year - 2)-12-31T16:30:00.000Z' WHERE card_no = '\(cardNumbers[9])'")
        try tamper(cli, "UPDATE cards SET created_at = '\(year - 2)-12-31T15:30:00.000Z' WHERE card_no = '\(cardNumbers[10])'")
        try tamper(cli, "UPDATE verifications SET created_at = '\(year - 1)-12-31T15:59:59.000Z' WHERE id = (SELECT MIN(id) FROM verifications)")

        try checkAgainstSQLite(cli, year: year, areas: areas)
        for past in [year - 1, year - 2] { try checkAgainstSQLite(cli, year: past, areas: areas) }
        let lastYear = try report(cli, year - 1)
        #expect((lastYear["verifications"] as? [String: Any])?["total"] as? Int == 1)
        #expect((lastYear["cards"] as? [String: Any])?["issued"] as? Int == 1)
        let future = try cli.run("reports", "year", String(year + 1))
        #expect(future.status == 1 && future.stderr.contains("has not begun"))

        try checkHTML(cli, year: year)
        let table = try cli.run("reports", "year", String(year))
        #expect(table.status == 0 && table.stdout.contains("CATEGORY") && table.stdout.contains("连州镇"))
        let csv = try cli.run("reports", "year", String(year), "--csv").stdout
        #expect(csv.hasPrefix("\u{FEFF}SECTION,KEY,LABEL,MEASURE,VALUE\r\n") && csv.contains("funnel,approved,开会通过,reached,5\r\n"))
    }

    private func report(_ cli: CLI, _ year: Int) throws -> [String: Any] {
        let run = try cli.run("reports", "year", String(year), "--json")
        #expect(run.status == 0, "\(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// Every figure of `reports year --json`, recounted with sqlite3 queries written here, not with the report's code.
    private func checkAgainstSQLite(_ cli: CLI, year: Int, areas: [Int: String]) throws {
        let json = try report(cli, year)
        func count(_ sql: String) throws -> Int { Int(try cli.sqlite(sql)) ?? -1 }
        let today = CalendarDate(chinaDayOf: Date())
        let asOf = year == today.year ? today.description : "\(year)-12-31"
        #expect(json["asOf"] as? String == asOf)
        // China-time year as a UTC range, worked out here rather than with SQLite's date functions.
        let (from, to) = ("\(year - 1)-12-31T16:00:00", "\(year)-12-31T16:00:00")
        let inYear = "created_at >= '\(from)' AND created_at < '\(to)'"

        let cards = json["cards"] as? [String: Any] ?? [:]
        let byCategory = cards["byCategory"] as? [[String: Any]] ?? []
        #expect(byCategory.map { $0["category"] as? String } == CardCategory.allCases.map(\.rawValue))
        #expect(byCategory.map { $0["label"] as? String } == CardCategory.allCases.map(\.label))
        let activeWhere = """
            substr(datetime(created_at, '+8 hours'), 1, 10) <= '\(asOf)' AND valid_until >= '\(asOf)'
            AND (revoked_at IS NULL OR substr(datetime(revoked_at, '+8 hours'), 1, 10) > '\(asOf)')
            """
        for row in byCategory {
            let category = row["category"] as? String ?? "?"
            #expect(
                row["issued"] as? Int == (try count("SELECT COUNT(*) FROM cards WHERE category = '\(category)' AND \(inYear)")),
                "\(year) \(category)"
            )
            #expect(
                row["active"] as? Int == (try count("SELECT COUNT(*) FROM cards WHERE category = '\(category)' AND \(activeWhere)")),
                "\(year) \(category)"
            )
        }
        #expect(cards["issued"] as? Int == (try count("SELECT COUNT(*) FROM cards WHERE \(inYear)")))

        let shops = json["shops"] as? [String: Any] ?? [:]
        let batchesWhere = "batch_number IN (SELECT number FROM batches WHERE opened_on LIKE '\(year)-%')"
        let batches = shops["byBatch"] as? [[String: Any]] ?? []
        #expect(
            batches.map { $0["batch"] as? Int }
                == (try cli.sqlite("SELECT number FROM batches WHERE opened_on LIKE '\(year)-%'")).split(separator: "\n").map { Int($0) }
        )
        for batch in batches {
            let number = batch["batch"] as? Int ?? 0
            for (key, condition) in [
                ("applied", "1"), ("approved", "stage = 'approved'"), ("rejected", "stage = 'rejected'"),
                ("underReview", "stage NOT IN ('approved', 'rejected')"),
            ] {
                #expect(
                    batch[key] as? Int == (try count("SELECT COUNT(*) FROM applications WHERE batch_number = \(number) AND \(condition)")),
                    "batch \(number) \(key)"
                )
            }
        }
        let industries = shops["byIndustry"] as? [[String: Any]] ?? []
        #expect(industries.map { $0["key"] as? String } == Industry.allCases.map(\.rawValue))
        #expect(industries.map { $0["label"] as? String } == Industry.allCases.map(\.label))
        for industry in industries {
            let key = industry["key"] as? String ?? "?"
            let expected = year == today.year ? try count("SELECT COUNT(*) FROM merchants WHERE status = 'active' AND industry = '\(key)'") : 0
            #expect(industry["count"] as? Int == expected, "\(year) shops in \(key)")
        }

        let v = json["verifications"] as? [String: Any] ?? [:]
        #expect(v["total"] as? Int == (try count("SELECT COUNT(*) FROM verifications WHERE \(inYear)")))
        #expect(v["valid"] as? Int == (try count("SELECT COUNT(*) FROM verifications WHERE valid = 1 AND \(inYear)")))
        #expect(v["rejected"] as? Int == (try count("SELECT COUNT(*) FROM verifications WHERE valid = 0 AND \(inYear)")))
        let offline = try count("SELECT COUNT(*) FROM verifications WHERE offline = 1 AND \(inYear)")
        #expect(v["offline"] as? Int == offline)
        let total = v["total"] as? Int ?? 0
        #expect(v["offlineShare"] as? Double == (total == 0 ? 0 : Double(offline) / Double(total)))
        #expect(v["uniqueHolders"] as? Int == (try count("SELECT COUNT(DISTINCT card_id) FROM verifications WHERE valid = 1 AND \(inYear)")))
        let months = v["byMonth"] as? [[String: Any]] ?? []
        #expect(months.map { $0["key"] as? String } == (1...12).map { "\(year)-" + String(format: "%02d", $0) })
        for month in months {
            let key = month["key"] as? String ?? "?"
            #expect(
                month["total"] as? Int
                    == (try count("SELECT COUNT(*) FROM verifications WHERE \(inYear) AND strftime('%Y-%m', created_at, '+8 hours') = '\(key)'"))
            )
        }
        for industry in v["byIndustry"] as? [[String: Any]] ?? [] {
            let key = industry["key"] as? String ?? "?"
            let sql =
                "SELECT COUNT(*) FROM verifications WHERE valid = 1 AND \(inYear) AND merchant_id IN (SELECT id FROM merchants WHERE industry = '\(key)')"
            #expect(industry["valid"] as? Int == (try count(sql)), "verifications in \(key)")
        }
        var expectedAreas: [String: Int] = [:]
        for line in try cli.sqlite("SELECT merchant_id, COUNT(*) FROM verifications WHERE valid = 1 AND \(inYear) GROUP BY 1").split(separator: "\n")
        {
            let fields = line.split(separator: "|").compactMap { Int($0) }
            expectedAreas[areas[fields[0]] ?? "?", default: 0] += fields[1]
        }
        let reportedAreas = (v["byArea"] as? [[String: Any]] ?? []).filter { ($0["valid"] as? Int ?? 0) > 0 }
        #expect(Dictionary(uniqueKeysWithValues: reportedAreas.map { ($0["key"] as? String ?? "", $0["valid"] as? Int ?? 0) }) == expectedAreas)
        let top = try cli.sqlite(
            "SELECT merchant_id || ':' || COUNT(*) FROM verifications WHERE valid = 1 AND \(inYear) GROUP BY merchant_id ORDER BY COUNT(*) DESC, merchant_id LIMIT 10"
        )
        #expect(
            (v["topShops"] as? [[String: Any]] ?? []).map { "\($0["key"] as? String ?? ""):\($0["valid"] as? Int ?? 0)" }
                == top.split(separator: "\n").map(String.init)
        )

        // The funnel: an application reached a stage if it stands at or past it, or was rejected there or later.
        let order = ["materials", "qualification", "inspection", "discussion", "approved"]
        let funnel = json["funnel"] as? [[String: Any]] ?? []
        #expect(funnel.map { $0["key"] as? String } == ["applied"] + order.dropFirst())
        for (index, step) in funnel.enumerated() {
            let later = order[index...].map { "'\($0)'" }.joined(separator: ", ")
            let sql = "SELECT COUNT(*) FROM applications WHERE \(batchesWhere) AND (stage IN (\(later)) OR rejected_at_stage IN (\(later)))"
            #expect(step["count"] as? Int == (try count(sql)), "\(year) funnel \(step["key"] ?? "")")
        }
    }

    /// The HTML file: self-contained, written 0644, rendered by Chromium with the key figures, and printed to A4.
    private func checkHTML(_ cli: CLI, year: Int) throws {
        let path = cli.workDirectory + "/\(year)年度报告.html"
        let link = cli.workDirectory + "/link.html"
        let target = try cli.write("elsewhere.txt", "keep me")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let wrote = try cli.run("reports", "year", String(year), "--html", path, "--json")
        #expect(wrote.status == 0 && wrote.stderr.contains("wrote the \(year) report"), "\(wrote.stderr)")
        #expect(try cli.run("reports", "year", String(year), "--html", link).status == 0)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me", "the report replaces a symlink, not the file it points to")
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o644)
        for outside in ["<script", "src=", "href=", "url(", "@import", "<link"] { #expect(!html.contains(outside), "\(outside) in the report") }
        #expect(html.contains("@page{size:A4") && html.contains("break-inside:avoid"))
        #expect(html.contains("东陂镇小食 &lt;&amp;&quot;店&gt;") && !html.contains("东陂镇小食 <&"), "a shop name is text, not markup")
        #expect(html.components(separatedBy: "<svg").count - 1 == 5, "months, industries of shops and of verifications, towns, funnel")

        let json = try report(cli, year)
        let v = json["verifications"] as? [String: Any] ?? [:]
        let shots = Browser.artifacts
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let common = [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(cli.workDirectory)/chromium",
        ]
        let png = shots + "/year-report.png"
        try? FileManager.default.removeItem(atPath: png)
        _ = try runTool(common + ["--window-size=800,3600", "--screenshot=\(png)", "file://" + path])
        #expect(FileManager.default.fileExists(atPath: png))
        let dom = try runTool(common + ["--dump-dom", "file://" + path], includeErrors: false).output
        for figure in [
            "\(year)年度“一城百店齐拥军”活动数据", "\(v["valid"] as? Int ?? -1) 次", "\(v["uniqueHolders"] as? Int ?? -1) 人",
            "\((json["cards"] as? [String: Any])?["issued"] as? Int ?? -1) 张", "连州镇", "慧光街道", "三水瑶族乡", "开会通过", "每月有效核验",
        ] {
            let shown = dom.contains(figure)
            #expect(shown, "\(figure) not in the rendered report")
        }
        let categoriesShown = CardCategory.allCases.filter { dom.contains("<td>\($0.label)</td>") }
        #expect(categoriesShown.count == CardCategory.allCases.count, "every card category has its row on the page")
        let pdf = cli.workDirectory + "/year.pdf"
        _ = try runTool(common + ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)", "file://" + path])
        let pdfText = String(decoding: (FileManager.default.contents(atPath: pdf) ?? Data()), as: UTF8.self)
        // Chromium writes A4 as 594.96 × 841.92 pt; every page must be that size.
        let pages = pdfText.components(separatedBy: "/MediaBox").count - 1
        let a4Pages = pdfText.components(separatedBy: "/MediaBox [0 0 594.95996 841.91998]").count - 1
        #expect(pages >= 2 && a4Pages == pages, "\(a4Pages) of \(pages) printed pages are A4")
    }
}
