import Foundation
import Testing

@Suite("A shop whose credit code a stranger used first can still apply, as processes", .timeLimit(.minutes(5)))
struct FairApplicationsTests {
    @Test(
        "both applications are taken and flagged; the reviewer sees references and phone checks, rejects the impostor, and the meeting approves the shop"
    )
    func impostorFirst() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        // The real shop applied once before and was turned down: its phone is on file.
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("b1.csv", applicationsCSV(7...7))).status == 0)
        #expect(try cli.run("applications", "reject", "1", "--reason", "材料不全").status == 0)
        #expect(try cli.run("batches", "close", "1").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        let realPhone = "13800138007"

        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let stranger = try ApplyForm(server: server, cli: cli).submit(
            ApplyForm.fields(shop: "拥军商户7", code: creditCode(7), contact: "陌生人", phone: "13912345678")
        )
        #expect(stranger.status == 200)
        #expect(stranger.page.contains("YJ-2-2"))
        let real = try ApplyForm(server: server, cli: cli).submit(
            ApplyForm.fields(shop: "拥军商户7", code: creditCode(7), contact: "联系人7", phone: realPhone)
        )
        #expect(real.status == 200, "the real shop is not refused: \(real.page)")
        #expect(real.page.contains("YJ-2-3") && real.page.contains("下一步") && real.page.contains(realPhone))

        let list = try cli.run("applications", "list", "--batch", "2").stdout
        #expect(list.contains("duplicate of #2"), "\(list)")
        #expect(list.contains("same credit code as #3"), "\(list)")
        let json =
            try JSONSerialization.jsonObject(with: Data(try cli.run("applications", "list", "--batch", "2", "--json").stdout.utf8))
            as? [[String: Any]] ?? []
        #expect(json.map { $0["reference"] as? String } == ["YJ-2-2", "YJ-2-3"])
        #expect(json.map { $0["duplicateOf"] as? Int } == [nil, 2])
        #expect((json.first?["phoneCheck"] as? String)?.contains("DIFFERS from \(realPhone) on file (application 1, batch 1)") == true)
        #expect((json.last?["phoneCheck"] as? String)?.contains("matches the phone on file (application 1, batch 1)") == true)

        let show = try cli.run("applications", "show", "3").stdout
        #expect(show.contains("reference YJ-2-3") && show.contains("duplicate of") && show.contains("same credit code in this batch"))
        #expect(show.contains("陌生人") && show.contains("联系人7"), "both applications side by side: \(show)")

        for id in ["2", "3"] { for _ in 0..<3 { #expect(try cli.run("applications", "advance", id).status == 0) } }
        let clash = try cli.run("batches", "approve", "2", "--meeting-date", "2026-12-10")
        #expect(clash.status == 1)
        #expect(clash.stderr.contains("applications 2 and 3 share credit code"))
        #expect(try cli.run("applications", "reject", "2", "--reason", "冒用他人统一社会信用代码，电话与档案不符").status == 0)
        let approved = try cli.run("batches", "approve", "2", "--meeting-date", "2026-12-10")
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout.contains("2 applied → 1 approved"))
        #expect(try cli.run("applications", "show", "2").stdout.contains("冒用他人统一社会信用代码"))
        #expect(try cli.run("audit", "verify").status == 0)
    }
}
