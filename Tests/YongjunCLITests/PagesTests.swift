import Foundation
import Testing

/// Headless Chromium at phone width: a screenshot kept in test-artifacts/screenshots, and the rendered DOM.
struct Browser {
    let profile: String
    static let artifacts = CLI.packageRoot.appendingPathComponent("test-artifacts/screenshots").path

    func screenshot(_ url: String, name: String, height: Int = 1100) throws -> (png: String, dom: String) {
        try FileManager.default.createDirectory(atPath: Self.artifacts, withIntermediateDirectories: true)
        let png = Self.artifacts + "/\(name).png"
        try? FileManager.default.removeItem(atPath: png)
        let common = [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile)",
            "--window-size=390,\(height)",
        ]
        let shot = try runTool(common + ["--screenshot=\(png)", url])
        #expect(FileManager.default.fileExists(atPath: png), "no screenshot of \(name): \(shot.output.suffix(400))")
        let dom = try runTool(common + ["--dump-dom", url], includeErrors: false).output
        return (png, dom)
    }

    /// Saves a page fetched with cookies so the browser can render it as the user saw it.
    func saved(_ html: String, name: String, base: URL) throws -> String {
        let path = profile + "-\(name).html"
        try html.replacingOccurrences(of: "<head>", with: "<head><base href=\"\(base.absoluteString)/\">").write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        return "file://" + path
    }
}

@Suite("People-facing pages in a real browser and decoder", .timeLimit(.minutes(5)))
struct PagesTests {
    @Test("holder, cashier, directory and application pages render at 390 px; the QR on screen decodes and verifies")
    func pages() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let activation = try cli.run("cards", "activation", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try cli.run("batches", "open").status == 0)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let base = server.baseURL.absoluteString
        let jar = cli.workDirectory + "/cookies"
        let browser = Browser(profile: cli.workDirectory + "/chromium")
        func curl(_ path: String, form: [String: String]? = nil) throws -> String {
            var arguments = ["curl", "-s", "-c", jar, "-b", jar, "-L"]
            for (name, value) in form ?? [:] { arguments += ["--data-urlencode", "\(name)=\(value)"] }
            return try runTool(arguments + [base + path]).output
        }
        func csrf() throws -> String {
            let cookies = try String(contentsOfFile: jar, encoding: .utf8)
            return cookies.split(separator: "\n").first { $0.contains("yj_csrf") }?.split(separator: "\t").last.map(String.init) ?? ""
        }

        let login = try browser.screenshot(base + "/card", name: "card-login")
        #expect(login.dom.contains("查看我的优待码") && login.dom.contains("6 位 PIN"))
        let activatePage = try browser.screenshot(base + "/card/activate", name: "card-activate")
        #expect(activatePage.dom.contains("激活码"))

        _ = try curl("/card/activate")
        let weak = try curl(
            "/card/activate",
            form: ["csrf": try csrf(), "cardNo": "LZ0001", "activationCode": activation, "pin": "111111", "pin2": "111111"]
        )
        #expect(weak.contains("PIN 太容易被猜到"))
        let codePage = try curl(
            "/card/activate",
            form: ["csrf": try csrf(), "cardNo": "LZ0001", "activationCode": activation, "pin": "482913", "pin2": "482913"]
        )
        #expect(codePage.contains("张*三 · 退役军人"))
        let shown = try browser.screenshot(try browser.saved(codePage, name: "code", base: server.baseURL), name: "card-code", height: 1000)
        let decoded = try runTool(["zbarimg", "--raw", "--quiet", shown.png], includeErrors: false).output.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        #expect(decoded.split(separator: ".").count == 3, "the QR on the code page did not decode: \(decoded.prefix(80))")
        let shortCode = try #require(codePage.range(of: #"id="short">[0-9]{9}"#, options: .regularExpression).map { String(codePage[$0].suffix(9)) })

        _ = try curl("/shop")
        let shopLogin = try browser.screenshot(base + "/shop", name: "shop-login")
        #expect(shopLogin.dom.contains("商户核验密钥"))
        let wrongKey = try curl("/shop/login", form: ["csrf": try csrf(), "key": "yjk_wrong"])
        #expect(wrongKey.contains("密钥不正确"))
        let shop = try curl("/shop/login", form: ["csrf": try csrf(), "key": key])
        #expect(shop.contains("扫码或输入数字码"))
        let valid = try curl("/shop/verify", form: ["csrf": try csrf(), "code": shortCode, "nonce": "till-page-1"])
        #expect(valid.contains("result valid") && valid.contains("请核对优待证") && valid.contains("张*三") && valid.contains("老兵汽修"))
        _ = try browser.screenshot(try browser.saved(valid, name: "valid", base: server.baseURL), name: "shop-valid")
        // The page's script asks again with the same nonce when a reply is lost: the first answer, not "invalid".
        let replayed = try curl("/shop/verify", form: ["csrf": try csrf(), "code": shortCode, "nonce": "till-page-1"])
        #expect(replayed.contains("result valid") && replayed.contains("张*三"), "\(replayed)")
        let tooLong = try curl("/shop/verify", form: ["csrf": try csrf(), "code": shortCode, "nonce": String(repeating: "n", count: 129)])
        #expect(tooLong.contains("nonce 长度须为 1–128 个字符") && tooLong.contains("href=\"/shop\""), "\(tooLong)")
        let used = try curl("/shop/verify", form: ["csrf": try csrf(), "code": shortCode])
        #expect(used.contains("result invalid") && used.contains("数字码无效"))
        let stale = try curl("/shop/verify", form: ["csrf": try csrf(), "code": decoded])
        #expect(stale.contains("已使用"))
        _ = try browser.screenshot(try browser.saved(stale, name: "invalid", base: server.baseURL), name: "shop-invalid")
        let second = try cli.run("merchants", "add", "--name", "第二家", "--industry", "other").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let secondKey = try cli.run("merchants", "key", second).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try await server.verify(decoded, key: secondKey)["valid"] as? Bool == true,
            "the code decoded from the screen verifies at another shop"
        )
        let forged = try runTool([
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-b", jar, "-d", "csrf=forged&code=1", base + "/shop/verify",
        ])
        #expect(forged.output == "403")
        let forgedPage = try runTool(["curl", "-s", "-b", jar, "-d", "csrf=forged&code=1", base + "/shop/verify"]).output
        #expect(forgedPage.contains("页面已过期") && forgedPage.contains("href=\"/shop\""))

        let shops = try browser.screenshot(base + "/shops", name: "shops")
        #expect(shops.dom.contains("老兵汽修") && shops.dom.contains("车辆维修") && shops.dom.contains("第二家"))
        let apply = try browser.screenshot(base + "/apply", name: "apply", height: 1500)
        #expect(apply.dom.contains("统一社会信用代码"))
        _ = try curl("/apply")
        let form = [
            "shopName": "拥军饭店", "creditCode": creditCode(77), "industry": "catering", "address": "连州市北湖路6号", "contact": "李经理",
            "phone": "13800138000", "benefit": "凭优待证享9折",
        ]
        let done = try curl("/apply", form: form.merging(["csrf": try csrf()]) { $1 })
        #expect(done.contains("YJ-1-1"))
        _ = try browser.screenshot(try browser.saved(done, name: "done", base: server.baseURL), name: "apply-done")
        let duplicate = try curl("/apply", form: form.merging(["csrf": try csrf()]) { $1 })
        #expect(duplicate.contains("YJ-1-2"), "a second application with the same credit code is taken and flagged for the bureau")
        let badCode = try curl("/apply", form: form.merging(["csrf": try csrf(), "creditCode": "123"]) { $1 })
        #expect(badCode.contains("统一社会信用代码"))
        #expect(try cli.run("applications", "list", "--batch", "1").stdout.contains("拥军饭店"))
        let status = try cli.run("cards", "show", "LZ0001").stdout
        #expect(status.contains("activated 20") && status.contains("failed PINs"))
    }

    @Test("a printed credential decodes from a browser render, verifies once a day per shop, and stops at revocation")
    func printedCredential() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let out = cli.workDirectory + "/凭证.html"
        #expect(try cli.run("cards", "print", "LZ0001", "--out", out).status == 0)
        let browser = Browser(profile: cli.workDirectory + "/chromium")
        let page = try browser.screenshot("file://" + out, name: "printed-credential", height: 700)
        #expect(page.dom.contains("优待证电子凭证") && page.dom.contains("张*三"))
        let token = try runTool(["zbarimg", "--raw", "--quiet", page.png], includeErrors: false).output.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        #expect(token.split(separator: ".").count == 3)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        #expect(try await server.verify(token, key: key)["valid"] as? Bool == true)
        #expect(try await server.verify(token, key: key)["reason"] as? String == "already_used_here")
        #expect(try cli.run("cards", "revoke", "LZ0001", "--reason", "证件遗失").status == 0)
        let revokedShop = try cli.run("merchants", "add", "--name", "第二家", "--industry", "other").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let otherKey = try cli.run("merchants", "key", revokedShop).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.verify(token, key: otherKey)["reason"] as? String == "card_revoked")
    }
}
