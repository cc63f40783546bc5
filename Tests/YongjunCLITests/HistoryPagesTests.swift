import Foundation
import Testing
import YongjunCore

/// The cashier's and the holder's own records as pages, in Chromium, and the directory's rules.
@Suite("History pages and the directory's rules in a real browser", .timeLimit(.minutes(5)))
struct HistoryPagesTests {
    @Test("/shop/history by day with a monthly CSV, /card/history with receipts, /shops with each shop's rules and 'what can I get'")
    func pages() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let rules = try cli.write("rules.csv", "适用类别,优惠内容,每日一次\n退役军人|残疾军人,凭优待证享9折,否\n")
        #expect(try cli.run("merchants", "benefits", "1", "--set", rules).status == 0)
        let other = try cli.addShop("烈属之家饭店")
        #expect(try cli.run("merchants", "benefits", other.id, "--set", try cli.write("o.csv", "categories,benefit\n烈属,免费午餐\n")).status == 0)
        let server = try ServerProcess(cli: cli)
        let base = server.baseURL.absoluteString
        let jar = cli.workDirectory + "/cookies"
        let browser = Browser(profile: cli.workDirectory + "/chromium")
        func curl(_ path: String, form: [String: String]? = nil, cookie: String? = nil) throws -> String {
            var arguments = ["curl", "-s", "-c", jar, "-b", jar, "-L"]
            if let cookie { arguments += ["-H", "Cookie: \(cookie)"] }
            for (name, value) in form ?? [:] { arguments += ["--data-urlencode", "\(name)=\(value)"] }
            return try runTool(arguments + [base + path]).output
        }
        func csrf() throws -> String {
            let cookies = try String(contentsOfFile: jar, encoding: .utf8)
            return cookies.split(separator: "\n").first { $0.contains("yj_csrf") }?.split(separator: "\t").last.map(String.init) ?? ""
        }
        // The cashier device signs in once with the key.
        _ = try curl("/shop")
        _ = try curl("/shop/login", form: ["csrf": try csrf(), "key": key])

        let session = try await cli.activateHolder("LZ0001", pin: "739146", on: server.client)
        let (code, _) = try await server.client.holderCode(session: session)
        #expect(try await server.client.verify(code, key: key).json["benefit"] as? String == "凭优待证享9折")
        let family = try cli.run("cards", "code", "LZ0002").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.client.verify(family, key: key).reason == "not_eligible_here")
        _ = try await server.client.verify("not a code", key: key)

        let history = try curl("/shop/history")
        #expect(history.contains("老兵汽修 · 核验记录"))
        #expect(history.contains("共 3 次核验，其中享受优惠 1 次"))
        #expect(history.contains("张*三") && history.contains("凭优待证享9折") && history.contains("有效（不适用本店优惠）"))
        #expect(!history.contains("LZ0001") && !history.contains("LZ0002"), "card numbers reached the shop's page")
        let shopShot = try browser.screenshot(try browser.saved(history, name: "shop-history", base: server.baseURL), name: "shop-history")
        #expect(shopShot.dom.contains("无效：无法识别"))
        #expect(!shopShot.dom.contains("优惠：<") && !history.contains("· 优惠：</li>"), "an empty benefit was shown")

        let month = String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(8 * 3600)).prefix(7))
        let csv = try curl("/shop/history.csv?month=\(month)")
        let lines = csv.split(separator: "\r\n")
        #expect(csv.hasPrefix("\u{FEFF}日期,时间,类别,持证人,持证人编号,结果,优惠,方式,记录编号"))
        #expect(lines.count == 4, "\(csv)")
        #expect(!csv.contains("LZ000"))

        let card = try curl("/card/history", cookie: "yj_session=\(session)")
        #expect(card.contains("张*三 · 使用记录") && card.contains("老兵汽修") && card.contains("查看凭证"))
        #expect(card.components(separatedBy: "查看凭证").count == 2, "one receipt, for the one verification that gave a benefit")
        let receipt = try #require(card.firstMatch(of: /<textarea readonly rows="6">([A-Za-z0-9_.-]+)<\/textarea>/)).output.1
        let checked = try cli.run("receipts", "verify", String(receipt))
        #expect(checked.status == 0, "\(checked.stderr)")
        let cardShot = try browser.screenshot(try browser.saved(card, name: "card-history", base: server.baseURL), name: "card-history")
        #expect(cardShot.dom.contains("凭优待证享9折"))

        let directory = try curl("/shops")
        #expect(directory.contains("退役军人、残疾军人：<strong>凭优待证享9折</strong>"))
        #expect(directory.contains("烈属：<strong>免费午餐</strong>"))
        let mine = try curl("/shops?mine=1", cookie: "yj_session=\(session)")
        #expect(mine.contains("我（退役军人）能享受的"))
        #expect(mine.contains("凭优待证享9折") && !mine.contains("免费午餐"), "a shop whose rules do not cover veterans was listed")
        _ = try browser.screenshot(try browser.saved(mine, name: "shops-mine", base: server.baseURL), name: "shops-mine")

        // The cashier page: the benefit in large type; a genuine card the rules do not cover is not green.
        let veteranCode = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let green = try curl("/shop/verify", form: ["csrf": try csrf(), "code": veteranCode])
        #expect(green.contains(#"<div class="result valid" role="status"><div>✓ 有效 · 请核对优待证</div><div class="benefit">凭优待证享9折</div>"#), "\(green)")
        _ = try browser.screenshot(try browser.saved(green, name: "shop-benefit", base: server.baseURL), name: "shop-benefit")
        let familyCode = try cli.run("cards", "code", "LZ0002").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let notice = try curl("/shop/verify", form: ["csrf": try csrf(), "code": familyCode])
        #expect(notice.contains(#"<div class="result notice" role="status"><div>证件有效 · 本店优惠不适用</div>"#))
        #expect(!notice.contains("class=\"benefit\""))

        // A busy month: the page lists the latest 2000 and says so; the CSV keeps every record.
        let stamp = Timestamp.iso(Date())
        _ = try cli.sqlite(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2001) "
                + "INSERT INTO verifications (id, merchant_id, valid, reason, created_at, response) "
                + "SELECT printf('00000000000000000000%06d', i), 1, 0, 'malformed', '\(stamp)', '{}' FROM n"
        )
        let busy = try curl("/shop/history")
        #expect(busy.contains("本页只列出最近 2000 次"), "a truncated month must say so")
        let busyCSV = try curl("/shop/history.csv?month=\(month)")
        #expect(busyCSV.split(separator: "\r\n").count == 1 + 2001 + 5, "the CSV holds the whole month")
        _ = server.stop()
    }
}
