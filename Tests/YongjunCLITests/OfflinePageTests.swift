import Foundation
import Testing
import YongjunCore
import YongjunStorage

/// The cashier page in headless Chromium, driven by Tests/tools/offline_page.py over the DevTools protocol: the tests
/// prepare the server and the codes, then check what the page showed, what the server recorded, and that the page's
/// verifier agrees with YongjunVerifier.
@Suite("The cashier page without a network", .timeLimit(.minutes(5)))
struct OfflinePageTests {
    static let driver = CLI.packageRoot.appendingPathComponent("Tests/tools/offline_page.py").path

    @Test("offline, /shop opens from the Service Worker and answers codes itself; back online, its records reach the server once")
    func offlineCashier() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        // The shop's rule travels in the snapshot: the page shows the benefit offline too.
        #expect(try cli.run("merchants", "benefits", "1", "--set", try cli.write("r.csv", "categories,benefit\nveteran,凭优待证享9折\n")).status == 0)
        let server = try ServerProcess(cli: cli, extraArguments: ["--status-list-ttl", "1"])
        defer { _ = server.stop() }
        // Codes the CLI signs once the server has announced its status list carry the card's entry.
        func code(_ card: String) throws -> String {
            try cli.run("cards", "code", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let valid = try code("LZ0001")
        let revoked = try code("LZ0002")
        let usedOnline = try code("LZ0001")
        let replyLost = try code("LZ0001")
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        // The list is rebuilt at most once a second here: the device's first sync holds the revocation.
        try await Task.sleep(for: .milliseconds(1100))

        let run = try runTool(
            ["python3", Self.driver, "flow", server.baseURL.absoluteString, key, valid, revoked, "123456789", usedOnline, replyLost],
            includeErrors: false
        )
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any],
            "the driver printed no JSON: \(run.output.suffix(600))"
        )
        #expect(run.status == 0, "\(report["error"] ?? "")")

        // A fetch from inside the Service Worker reaches the server before the cut and fails after it.
        let probe = report["workerFetch"] as? [String: [String]] ?? [:]
        func all(_ phase: String, _ outcome: String) -> Bool { probe[phase].map { !$0.isEmpty && $0.allSatisfy { $0 == outcome } } ?? false }
        #expect(all("online", "reached") && all("offline", "failed"), "the network cut must reach the Service Worker: \(probe)")
        let reloaded = report["reloaded"] as? [String: Any]
        #expect(reloaded?["online"] as? Bool == false && reloaded?["form"] as? Bool == true, "the page did not open with the network cut")
        #expect(reloaded?["fromServiceWorker"] as? [Bool] == [true], "the offline reload was not served by the Service Worker")
        let online = report["online"] as? [String: Any]
        #expect(online?["offline"] as? Bool == false && online?["class"] as? String == "result valid", "online: \(online ?? [:])")
        // The server recorded it but its reply was lost: the page asked again with the same nonce and got that answer,
        // not "already used" and not an offline verdict (a second record of the same use).
        let lost = report["lostAnswer"] as? [String: Any]
        #expect(lost?["lost"] as? Bool == true, "the first reply was to be lost: \(lost ?? [:])")
        #expect(lost?["offline"] as? Bool == false && lost?["class"] as? String == "result valid", "reply lost: \(lost ?? [:])")
        var answers = report["answers"] as? [String: [String: Any]] ?? [:]
        answers["unreachable"] = report["unreachable"] as? [String: Any]
        func shown(_ name: String) -> (reason: String, text: String) {
            let answer = answers[name] ?? [:]
            #expect(answer["offline"] as? Bool == true, "\(name) was not answered offline")
            return (answer["reason"] as? String ?? "", answer["text"] as? String ?? "")
        }
        // The server out of reach while the browser believes it is online: answered offline, and the use the server
        // accepted a moment ago is remembered on the device.
        let unreachable = shown("unreachable")
        #expect(unreachable.reason == "already_used_here", "\(unreachable.text)")
        let first = shown("valid")
        #expect(first.reason == "valid" && first.text.contains("✓ 有效") && first.text.contains("退役军人 · 张*三"), "\(first.text)")
        #expect(first.text.contains("凭优待证享9折"), "the offline answer should show the shop's benefit: \(first.text)")
        // The snapshot's age in whole minutes: 0 here, unless a loaded machine stretches the run.
        #expect(first.text.range(of: #"离线核验 · 数据同步于 [0-9]+ 分钟前"#, options: .regularExpression) != nil, "\(first.text)")
        let again = shown("again")
        #expect(again.reason == "already_used_here" && again.text.contains("此码已在本店使用过"), "\(again.text)")
        let card = shown("revoked")
        #expect(card.reason == "card_revoked" && card.text.contains("证件已注销"), "\(card.text)")
        let short = shown("short")
        #expect(short.reason == "offline_unsupported" && short.text.contains("离线时无法核验此码"), "\(short.text)")
        #expect((report["queued"] as? [String: Any])?["queued"] as? Int == 5)
        let uploaded = (report["uploaded"] as? [String: Any])?["text"] as? String ?? ""
        #expect(uploaded.range(of: #"^数据同步于 [0-9]+ 分钟前 · 待上传 0 条$"#, options: .regularExpression) != nil, "\(uploaded)")

        let resent = (report["resent"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(resent.count == 5 && resent.allSatisfy { $0["status"] as? String == "duplicate" }, "sending the same records again: \(resent)")

        // Under nginx's Content-Security-Policy (in force: an inline script is blocked), nothing of ours was refused.
        let csp = report["csp"] as? [String: Any]
        #expect(csp?["inlineBlocked"] as? Bool == true && (csp?["violations"] as? [String])?.isEmpty == true, "\(csp ?? [:])")

        // Each offline answer is on the server once, as the device gave it, and agrees with the register.
        let offline = try cli.sqlite("SELECT device_result FROM verifications WHERE offline = 1 ORDER BY created_at")
        #expect(offline == "already_used_here\nvalid\nalready_used_here\ncard_revoked\noffline_unsupported", "\(offline)")
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 1 AND conflict IS NOT NULL") == "0")
        // Online: the code used before the cut, and the one whose reply was lost, once; both asked with the page's nonce.
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 0") == "2")
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 0 AND valid = 1 AND nonce LIKE 'till-%'") == "2")
    }

    @Test("the page's offline verdict agrees with YongjunVerifier (the CLI kit's) on awkward codes and snapshots, rule for rule")
    func verdictParity() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--status-list-ttl", "1"])
        defer { _ = server.stop() }
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        try await Task.sleep(for: .milliseconds(1100))
        let awkward = try AwkwardCodes(cli: cli)
        let cases = try awkward.all
        let synced = try await server.client.send("GET", "/api/v1/shop/snapshot", headers: ["Authorization": "Bearer \(key)"])
        let others = try awkward.snapshots(from: try #require(synced.json["snapshot"] as? String))
        let questions = ["codes": cases.map(\.code), "snapshots": others.map(\.token)]
        let file = try cli.write("questions.json", try JSONSerialization.data(withJSONObject: questions))
        let run = try runTool(["python3", Self.driver, "verdicts", server.baseURL.absoluteString, key, file], includeErrors: false)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output.suffix(600))")
        let verdicts = try #require(report["verdicts"] as? [String], "\(report["error"] ?? run.output.suffix(600))")
        let snapshot = try #require(report["snapshot"] as? String)
        let now = Date(timeIntervalSince1970: Double(try #require(report["now"] as? Int)) / 1000)
        let verifier = try ShopSnapshot.open(snapshot).get()
        try #require(verdicts.count == cases.count)
        for (index, (name, code)) in cases.enumerated() {
            let verdict = verifier.verify(code, now: now, alreadyUsed: { _ in false })
            let expected = verdict.reason?.rawValue ?? "valid " + (verdict.claims?.category?.label ?? "")
            #expect(verdicts[index] == expected, "\(name): the page says \(verdicts[index]), YongjunVerifier \(expected)")
        }
        // Not vacuous: the plain code is valid and the revoked card's is refused.
        #expect(verdicts.first == "valid 退役军人" && verdicts.contains("card_revoked"))

        let answers = try #require(report["snapshots"] as? [String])
        try #require(answers.count == others.count)
        for (index, (name, token)) in others.enumerated() {
            let expected: String
            switch ShopSnapshot.open(token) {
            case .failure(let problem): expected = problem.rawValue
            case .success(let other): expected = other.verify(cases[0].code, now: now, alreadyUsed: { _ in false }).reason?.rawValue ?? "valid"
            }
            #expect(answers[index] == expected, "snapshot \(name): the page says \(answers[index]), YongjunVerifier \(expected)")
        }
        #expect(answers.first == "valid" && Set(answers).isSuperset(of: ["tampered", "shop_not_active", "sync_required"]))
    }
}
