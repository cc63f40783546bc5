import Foundation
import Testing
import YongjunCore

/// The cashier page in headless Chromium with the network cut, driven by Tests/tools/offline_page.py over the
/// DevTools protocol; this test prepares the server and codes, then checks what the page showed and what the
/// server recorded.
@Suite("The cashier page without a network", .timeLimit(.minutes(2)))
struct OfflinePageTests {
    @Test("offline, /shop opens from the Service Worker and answers codes itself; back online, its records reach the server once")
    func offlineCashier() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let valid = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let revoked = try cli.run("cards", "code", "LZ0002").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let online = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Revoked before the server starts, so the first status list the device syncs already holds it.
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }

        let script = CLI.packageRoot.appendingPathComponent("Tests/tools/offline_page.py").path
        let run = try runTool(["python3", script, server.baseURL.absoluteString, key, valid, revoked, "123456789", online], includeErrors: false)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any],
            "the driver printed no JSON: \(run.output.suffix(600))"
        )
        #expect(run.status == 0, "\(report["error"] ?? "")")

        let reloaded = report["reloaded"] as? [String: Any]
        #expect(reloaded?["online"] as? Bool == false && reloaded?["form"] as? Bool == true, "the page did not open with the network cut")
        #expect(reloaded?["fromServiceWorker"] as? [Bool] == [true], "the offline reload was not served by the Service Worker")
        let answers = report["answers"] as? [String: [String: Any]] ?? [:]
        func shown(_ name: String) -> (reason: String, text: String) {
            let answer = answers[name] ?? [:]
            #expect(answer["offline"] as? Bool == true, "\(name) was not answered offline")
            return (answer["reason"] as? String ?? "", answer["text"] as? String ?? "")
        }
        let first = shown("valid")
        #expect(first.reason == "valid" && first.text.contains("✓ 有效") && first.text.contains("退役军人 · 张*三"), "\(first.text)")
        #expect(first.text.contains("离线核验") && first.text.contains("数据同步于 0 分钟前"))
        let again = shown("again")
        #expect(again.reason == "already_used_here" && again.text.contains("此码已在本店使用过"), "\(again.text)")
        let card = shown("revoked")
        #expect(card.reason == "card_revoked" && card.text.contains("证件已注销"), "\(card.text)")
        let short = shown("short")
        #expect(short.reason == "offline_unsupported" && short.text.contains("离线时无法核验此码"), "\(short.text)")
        // A 9-digit number could not be judged offline, so only three verifications wait for the network.
        #expect((report["queued"] as? [String: Any])?["queued"] as? Int == 3)
        #expect((report["uploaded"] as? [String: Any])?["text"] as? String == "数据同步于 0 分钟前 · 待上传 0 条")

        let resent = (report["resent"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(resent.count == 3 && resent.allSatisfy { $0["status"] as? String == "duplicate" }, "sending the same records again: \(resent)")
        let back = report["online"] as? [String: Any]
        #expect(back?["offline"] as? Bool == false && back?["class"] as? String == "result valid", "with the network back: \(back ?? [:])")
        let today = CalendarDate(chinaDayOf: Date()).description
        let verifications = try cli.run("reports", "verifications", "--from", today, "--to", today, "--json").stdout
        let tally = try JSONSerialization.jsonObject(with: Data(verifications.utf8)) as? [String: Any]
        #expect(tally?["total"] as? Int == 4 && tally?["valid"] as? Int == 2, "three offline and one online: \(verifications)")
    }
}
