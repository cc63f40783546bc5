import Foundation
import Testing
import YongjunCore

/// Applications CSV rows for shops numbered `range`, with valid GB 32100 credit codes.
func applicationsCSV(_ range: ClosedRange<Int>, header: String = "门店名称,统一社会信用代码,行业,地址,联系人,联系电话,优惠内容") -> String {
    let industries = ["车辆维修", "餐饮", "日用百货", "other"]
    let rows = range.map { index -> String in
        let code = creditCode(index)
        return "拥军商户\(index),\(code),\(industries[index % 4]),连州市中山路\(index)号,联系人\(index),138001380\(String(format: "%02d", index % 100)),凭优待证享9折"
    }
    return ([header] + rows).joined(separator: "\r\n") + "\r\n"
}

func creditCode(_ index: Int) -> String {
    let first17 = "91441882MA" + String(format: "%07d", index)
    return first17 + String(CreditCode.checkCharacter(for: first17)!)
}

@Suite("The bureau's batch workflow, run as processes", .timeLimit(.minutes(5)))
struct BatchWorkflowTests {
    @Test("batch 1: 15 applications, 6 rejected at various stages, 9 approved at the meeting, keys issued, one shop suspended")
    func batchOne() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("cards", "import", try cli.write("cards.csv", CLI.cardsCSV)).status == 0)
        #expect(try cli.run("batches", "open").stdout == "1\n")
        let file = try cli.write("batch1.csv", "\u{FEFF}" + applicationsCSV(1...15))
        let imported = try cli.run("applications", "import", "--batch", "1", file)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported 15 application(s) into batch 1"))

        let rejections: [(Int64, Int, String)] = [
            (2, 0, "materials"), (5, 0, "materials"), (7, 1, "qualification"), (9, 1, "qualification"), (11, 2, "inspection"), (13, 3, "discussion"),
        ]
        for (id, advances, stage) in rejections {
            for _ in 0..<advances { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
            let rejected = try cli.run("applications", "reject", String(id), "--stage", stage, "--reason", "不符合条件（\(stage)）")
            #expect(rejected.status == 0, "\(rejected.stderr)")
        }
        let approvedIDs = Set(1...15).subtracting(rejections.map { Int($0.0) }).sorted()
        for id in approvedIDs {
            for step in ["qualification", "inspection", "discussion"] {
                let advanced = try cli.run("applications", "advance", String(id), "--note", "通过\(step)", "--operator", "李科员")
                #expect(advanced.stdout.contains("is now at \(step)"))
            }
        }
        let beyond = try cli.run("applications", "advance", "1")
        #expect(beyond.status == 1)
        #expect(beyond.stderr.contains("yongjun batches approve 1"))

        let approval = try cli.run("batches", "approve", "1", "--meeting-date", "2026-08-06")
        #expect(approval.status == 0, "\(approval.stderr)")
        #expect(approval.stdout.contains("15 applied → 9 approved"))

        let report = try JSONSerialization.jsonObject(with: Data(try cli.run("reports", "batch", "1", "--json").stdout.utf8)) as? [String: Any]
        #expect(report?["applied"] as? Int == 15)
        #expect(report?["approved"] as? Int == 9)
        #expect(report?["rejected"] as? Int == 6)
        #expect(report?["rejectedAt"] as? [String: Int] == ["materials": 2, "qualification": 2, "inspection": 1, "discussion": 1])
        #expect(report?["meetingDate"] as? String == "2026-08-06")

        let history = try JSONSerialization.jsonObject(with: Data(try cli.run("applications", "show", "1", "--json").stdout.utf8)) as? [String: Any]
        let steps = history?["history"] as? [[String: Any]] ?? []
        #expect(steps.map { $0["to"] as? String } == ["materials", "qualification", "inspection", "discussion", "approved"])
        #expect(steps[1]["operator"] as? String == "李科员")
        #expect(steps[1]["note"] as? String == "通过qualification")

        let merchants = try JSONSerialization.jsonObject(with: Data(try cli.run("merchants", "list", "--json").stdout.utf8)) as? [[String: Any]] ?? []
        #expect(merchants.count == 9)
        #expect(merchants.allSatisfy { $0["status"] as? String == "active" && $0["batch"] as? Int == 1 })
        var keys: [String] = []
        for merchant in merchants {
            keys.append(try cli.run("merchants", "key", String(merchant["id"] as! Int)).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(keys.allSatisfy { $0.hasPrefix("yjk_") })

        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let code = { try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(try await server.verify(try code(), key: keys[0])["valid"] as? Bool == true)
        #expect(try cli.run("merchants", "suspend", "1", "--reason", "门店装修").status == 0)
        let refused = try await server.verify(try code(), key: keys[0])
        #expect(refused["error"] as? String == "merchant_suspended")
        #expect(try await server.verify(try code(), key: keys[1])["valid"] as? Bool == true)
        #expect(try cli.run("merchants", "reinstate", "1").status == 0)
        #expect(try await server.verify(try code(), key: keys[0])["valid"] as? Bool == true)

        let directory = try cli.run("reports", "merchants", "--csv").stdout
        #expect(directory.hasPrefix("\u{FEFF}ID,NAME,INDUSTRY"))
        #expect(directory.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 10)
        let today = CalendarDate(chinaDayOf: Date()).description
        let usage =
            try JSONSerialization.jsonObject(
                with: Data(try cli.run("reports", "verifications", "--from", today, "--to", today, "--json").stdout.utf8)
            ) as? [String: Any]
        #expect(usage?["valid"] as? Int == 3)
        #expect((usage?["byMerchant"] as? [[String: Any]])?.count == 2)

        let audit = try cli.run("audit", "verify")
        #expect(audit.status == 0)
        let actions = (try JSONSerialization.jsonObject(with: Data(try cli.run("audit", "list", "--json").stdout.utf8)) as? [[String: Any]] ?? [])
            .compactMap { $0["action"] as? String }
        for action in [
            "keys.init", "cards.import", "batches.open", "applications.import", "applications.advance", "applications.reject",
            "batches.approve", "merchants.key", "merchants.suspend", "merchants.reinstate",
        ] {
            #expect(actions.contains(action), "\(action) not audited")
        }
    }

    @Test("GBK and BOM files import; a shop may re-apply in a later batch after rejection; errors say which line and why")
    func importsAndErrors() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("a.csv", applicationsCSV(1...2))).stderr.contains("no batch 1"))
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("batches", "open").stderr.contains("batch 1 is still open"))
        let gbkData = gbkEncoded(applicationsCSV(1...3))
        #expect(String(validating: Array(gbkData), as: UTF8.self) == nil, "the GBK file must not also be valid UTF-8")
        let gbk = try cli.write("gbk.csv", gbkData)
        let imported = try cli.run("applications", "import", "--batch", "1", gbk)
        #expect(imported.status == 0, "\(imported.stderr)")
        let listed =
            try JSONSerialization.jsonObject(with: Data(try cli.run("applications", "list", "--batch", "1", "--json").stdout.utf8))
            as? [[String: Any]]
        #expect(listed?.first?["shopName"] as? String == "拥军商户1")
        #expect(listed?.first?["industry"] as? String == "catering")
        #expect(listed?.first?["address"] as? String == "连州市中山路1号")
        let forcedUTF8 = try cli.run("applications", "import", "--batch", "1", gbk, "--encoding", "utf-8")
        #expect(forcedUTF8.stderr.contains("is not utf-8 text"))

        let again = try cli.run("applications", "import", "--batch", "1", try cli.write("again.csv", "\u{FEFF}" + applicationsCSV(3...4)))
        #expect(again.status == 0, "a credit code already in the batch is taken and flagged, not refused")
        #expect(again.stdout.contains("1 of them share a credit code with an earlier application in the batch (#4)"))
        #expect(try cli.run("applications", "list", "--batch", "1").stdout.contains("duplicate of #3"))
        #expect(try cli.run("applications", "list", "--batch", "1", "--json").stdout.components(separatedBy: "\"id\"").count == 6)

        let badCode = String(creditCode(9).dropLast()) + (creditCode(9).last == "0" ? "1" : "0")
        let bad = try cli.write(
            "bad.csv",
            applicationsCSV(5...6).replacingOccurrences(of: creditCode(6), with: badCode).replacingOccurrences(of: "拥军商户5,", with: ",")
        )
        let refused = try cli.run("applications", "import", "--batch", "1", bad)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 2: shop_name (门店名称) is empty"))
        #expect(refused.stderr.contains("line 3: credit_code (统一社会信用代码) check character"))
        #expect(refused.stderr.contains("2 bad line(s); nothing was imported"))

        #expect(try cli.run("applications", "reject", "1", "--reason", "资料不全").status == 0)
        #expect(try cli.run("applications", "reject", "2", "--reason", " ").status == 64)
        #expect(try cli.run("applications", "reject", "2", "--stage", "inspection", "--reason", "x").stderr.contains("is at materials"))
        #expect(try cli.run("batches", "approve", "1", "--meeting-date", "2026-08-06").stderr.contains("no application at discussion"))
        #expect(try cli.run("batches", "approve", "1", "--meeting-date", "2026-13-01").status == 64)
        #expect(try cli.run("batches", "close", "1").status == 0)
        #expect(
            try cli.run("applications", "import", "--batch", "1", try cli.write("late.csv", applicationsCSV(7...7))).stderr.contains(
                "batch 1 is closed"
            )
        )
        #expect(try cli.run("batches", "open").stdout == "2\n")
        let reapply = try cli.run("applications", "import", "--batch", "2", try cli.write("re.csv", applicationsCSV(1...2)))
        #expect(reapply.status == 1)
        #expect(reapply.stderr.contains("line 3: credit_code \(creditCode(2)) is still under review in batch 1"))
        #expect(try cli.run("applications", "import", "--batch", "2", try cli.write("re1.csv", applicationsCSV(1...1))).status == 0)
        let history =
            try JSONSerialization.jsonObject(
                with: Data(try cli.run("applications", "list", "--json").stdout.utf8)
            ) as? [[String: Any]] ?? []
        #expect(history.filter { $0["creditCode"] as? String == creditCode(1) }.map { $0["status"] as? String } == ["rejected", "under_review"])
    }

    @Test("audit verify names the first edited, deleted or reordered entry, and a cut-off end")
    func auditTampering() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("a.csv", applicationsCSV(1...3))).status == 0)
        for id in 1...3 { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
        #expect(try cli.run("audit", "verify").stdout.hasPrefix("audit log intact: 6 entries\n"))
        let tamperings = [
            ("UPDATE audit_log SET details = '{\"from\":\"materials\"}' WHERE seq = 4", "entry 4 was changed"),
            ("DELETE FROM audit_log WHERE seq = 3", "entry 3 is missing"),
            (
                "UPDATE audit_log SET seq = -5 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = -5",
                "broken at entry 4"
            ),
            ("DELETE FROM audit_log WHERE seq = 6", "entries were deleted from the end"),
        ]
        for (sql, message) in tamperings {
            let copy = try CLI()
            defer { copy.remove() }
            try FileManager.default.copyItem(atPath: cli.dataDirectory, toPath: copy.dataDirectory)
            let sqlite = Process()
            sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            sqlite.arguments = ["sqlite3", copy.dataDirectory + "/yongjun.sqlite", sql]
            try sqlite.run()
            sqlite.waitUntilExit()
            #expect(sqlite.terminationStatus == 0)
            let verified = try copy.run("audit", "verify")
            #expect(verified.status == 1, "\(sql)")
            #expect(verified.stderr.contains(message), "\(verified.stderr)")
        }
    }
}

/// `text` in GB18030, through iconv as Excel on Chinese Windows would write it.
func gbkEncoded(_ text: String) -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["iconv", "-f", "UTF-8", "-t", "GB18030"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try? process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data
}
