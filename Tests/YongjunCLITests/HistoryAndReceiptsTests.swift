import Foundation
import Testing
import YongjunCore
import YongjunStorage

/// Each side's own record, through the real server: a shop's history (paged, holders by pseudonym only), the
/// holder's history with signed receipts, and the bureau's check of a receipt.
@Suite("Shop and holder histories, receipts")
struct HistoryAndReceiptsTests {
    @Test("a shop's history shows only its own verifications, by pseudonym and masked name, page by page")
    func shopHistory() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let keyA = try cli.prepare()
        let shopB = try cli.addShop("乙店")
        let server = try ServerProcess(cli: cli)
        func code(_ card: String) throws -> String { try cli.run("cards", "code", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        for card in ["LZ0001", "LZ0002", "LZ0001"] { _ = try await server.client.verify(try code(card), key: keyA) }
        _ = try await server.client.verify("not a code", key: keyA)
        _ = try await server.client.verify(try code("LZ0001"), key: shopB.key)

        let page = try await server.client.send("GET", "/api/v1/shop/verifications?limit=3", headers: ["Authorization": "Bearer \(keyA)"])
        #expect(page.status == 200)
        let items = try #require(page.json["verifications"] as? [[String: Any]])
        #expect(items.count == 3)
        #expect(!page.body.contains("LZ000"), "a card number reached the shop")
        let next = try #require(page.json["next"] as? String)
        let rest = try await server.client.send(
            "GET",
            "/api/v1/shop/verifications?limit=3&before=\(next)",
            headers: ["Authorization": "Bearer \(keyA)"]
        )
        let restItems = try #require(rest.json["verifications"] as? [[String: Any]])
        #expect(restItems.count == 1)
        #expect(rest.json["next"] is NSNull || rest.json["next"] == nil)
        let all = items + restItems
        #expect(all.count == 4, "shop B's verification must not show")
        let zhang = all.filter { $0["holder"] as? String == "张*三" }
        #expect(zhang.count == 2)
        #expect(Set(zhang.compactMap { $0["pseudonym"] as? String }).count == 1, "one holder, one pseudonym at this shop")
        let atB = try await server.client.send("GET", "/api/v1/shop/verifications", headers: ["Authorization": "Bearer \(shopB.key)"])
        let pseudonymAtB = try #require((atB.json["verifications"] as? [[String: Any]])?.first?["pseudonym"] as? String)
        #expect(pseudonymAtB != zhang.first?["pseudonym"] as? String)
        #expect(all.contains { $0["valid"] as? Bool == false && $0["reason"] as? String == "malformed" })

        let bad = try await server.client.send("GET", "/api/v1/shop/verifications?limit=0", headers: ["Authorization": "Bearer \(keyA)"])
        #expect(bad.status == 400)
        let badMonth = try await server.client.send("GET", "/api/v1/shop/verifications?month=2026-13", headers: ["Authorization": "Bearer \(keyA)"])
        #expect(badMonth.status == 400)
        let nobody = try await server.client.send("GET", "/api/v1/shop/verifications")
        #expect(nobody.status == 401)
    }

    @Test("the holder sees where the card was used, with receipts the bureau can verify; a tampered receipt fails")
    func holderHistoryAndReceipts() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        #expect(try cli.run("merchants", "benefits", "1", "--set", try cli.write("r.csv", "categories,benefit\nall,凭优待证享9折\n")).status == 0)
        let server = try ServerProcess(cli: cli)
        let session = try await cli.activateHolder("LZ0001", pin: "739146", on: server.client)
        let (code, _) = try await server.client.holderCode(session: session)
        #expect(try await server.client.verify(code, key: key).json["benefit"] as? String == "凭优待证享9折")
        #expect(try await server.client.verify(code, key: key).reason == "already_used_here")

        let history = try await server.client.send("GET", "/api/v1/holder/history", headers: ["Cookie": "yj_session=\(session)"])
        #expect(history.status == 200)
        let items = try #require(history.json["verifications"] as? [[String: Any]])
        #expect(items.count == 2)
        #expect(items.allSatisfy { $0["shop"] as? String == "老兵汽修" })
        // Once the indexer has filed them (here: at once, as if a minute had passed), the history is the same.
        let database = try AppDatabase.open(in: DataDirectory(path: cli.dataDirectory))
        #expect(try await database.indexCardHistory(settled: "ZZZZZZZZZZZZZZZZZZZZZZZZZZ") == 2)
        #expect(try cli.sqlite("SELECT count(*) FROM card_history") == "2")
        let filed = try await server.client.send("GET", "/api/v1/holder/history", headers: ["Cookie": "yj_session=\(session)"])
        let filedItems = try #require(filed.json["verifications"] as? [[String: Any]])
        #expect(filedItems.compactMap { $0["id"] as? String } == items.compactMap { $0["id"] as? String })
        let receipts = items.compactMap { $0["receipt"] as? String }
        #expect(receipts.count == 1, "only the verification that gave a benefit has a receipt")
        let receipt = try #require(receipts.first)

        let file = try cli.write("receipt.txt", receipt + "\n")
        let genuine = try cli.run("receipts", "verify", file)
        #expect(genuine.status == 0, "\(genuine.stderr)")
        #expect(genuine.stdout.contains("genuine") && genuine.stdout.contains("老兵汽修") && genuine.stdout.contains("凭优待证享9折"))

        // The holder edits the benefit in the receipt: the signature no longer holds.
        var parts = receipt.split(separator: ".").map(String.init)
        let claims = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self).replacingOccurrences(of: "9折", with: "5折")
        parts[1] = Base64URL.encode(Array(claims.utf8))
        let tampered = try cli.run("receipts", "verify", parts.joined(separator: "."))
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("NOT GENUINE"))

        let nobody = try await server.client.send("GET", "/api/v1/holder/history")
        #expect(nobody.status == 401)
    }
}
