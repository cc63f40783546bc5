import Foundation
import Testing
import YongjunCore

/// The right benefit for the right holder, through the real binary and server.
@Suite("Benefit rules, eligibility and pseudonyms")
struct BenefitRulesTests {
    static let cards = """
        card_no,name,id_number,category,valid_until,phone,disability_grade
        LZ0001,张小三,\(CLI.idNumber("44188219650312123")),退役军人,2099-12-31,,
        LZ0002,李四,\(CLI.idNumber("44188219700101456")),military_family,2099-06-30,,
        LZ0003,王五,\(CLI.idNumber("44188219580101789")),残疾军人,2099-06-30,,三级
        LZ0004,赵六,\(CLI.idNumber("44188219600101234")),烈属,2099-06-30,,

        """

    @Test("category rules give the right benefit or not_eligible_here; a once-per-day limit holds across two verifications")
    func rules() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let imported = try cli.run("cards", "import", try cli.write("cards.csv", Self.cards))
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try cli.sqlite("SELECT disability_grade FROM cards WHERE card_no = 'LZ0003'") == "3")
        let shop = try cli.addShop("老兵饭店")
        let rules = try cli.write(
            "rules.csv",
            """
            适用类别,优惠内容,每日一次,星期,开始日期,结束日期
            退役军人|disabled_serviceman,凭优待证享9折,否,,,
            烈属,凭优待证享8折,是,,,

            """
        )
        let set = try cli.run("merchants", "benefits", shop.id, "--set", rules)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout.contains("凭优待证享8折") && set.stdout.contains("每人每日一次"))
        let server = try ServerProcess(cli: cli)
        func verify(_ card: String, key: String = shop.key) async throws -> [String: Any] {
            let code = try cli.run("cards", "code", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return try await server.client.verify(code, key: key).json
        }
        let veteran = try await verify("LZ0001")
        #expect(veteran["valid"] as? Bool == true)
        #expect(veteran["eligible"] as? Bool == true)
        #expect(veteran["benefit"] as? String == "凭优待证享9折")
        let disabled = try await verify("LZ0003")
        #expect(disabled["categoryLabel"] as? String == "残疾军人")
        #expect(disabled["benefit"] as? String == "凭优待证享9折")
        let family = try await verify("LZ0002")
        #expect(family["valid"] as? Bool == true)
        #expect(family["eligible"] as? Bool == false)
        #expect(family["reason"] as? String == "not_eligible_here")
        #expect(family["benefit"] == nil)
        let martyrFirst = try await verify("LZ0004")
        #expect(martyrFirst["benefit"] as? String == "凭优待证享8折")
        let martyrAgain = try await verify("LZ0004")
        #expect(martyrAgain["valid"] as? Bool == true)
        #expect(martyrAgain["eligible"] as? Bool == false, "the once-a-day benefit was given twice")
        // The first code of the day was a different code: the limit is per holder, not per code.
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE eligible = 1 AND benefit = '凭优待证享8折'") == "1")

        // Bad rules change nothing and say which line.
        let bad = try cli.run("merchants", "benefits", shop.id, "--set", try cli.write("bad.csv", "categories,benefit\n老兵,九折\n"))
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("line 2") && bad.stderr.contains("老兵"))
        #expect(try cli.run("merchants", "benefits", shop.id).stdout.contains("凭优待证享9折"))
        #expect(try cli.run("audit", "verify").status == 0)
    }

    @Test("a shop sees a per-shop pseudonym: stable at one shop, different at another, never the card number")
    func pseudonyms() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("cards", "import", try cli.write("cards.csv", Self.cards)).status == 0)
        let first = try cli.addShop("甲店")
        let second = try cli.addShop("乙店")
        let server = try ServerProcess(cli: cli)
        func pseudonym(_ key: String) async throws -> String {
            let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let answer = try await server.client.verify(code, key: key)
            #expect(!answer.body.contains("LZ0001"))
            return try #require(answer.json["pseudonym"] as? String)
        }
        let atFirst = try await pseudonym(first.key)
        #expect(try await pseudonym(first.key) == atFirst)
        let atSecond = try await pseudonym(second.key)
        #expect(atSecond != atFirst)
        #expect(atFirst.hasPrefix("h-") && atFirst.count == 18)
    }

    @Test("disability grades: only on 残疾军人 cards, 一级 to 十级")
    func grades() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let wrong = """
            card_no,name,id_number,category,valid_until,残疾等级
            LZ0009,张小三,\(CLI.idNumber("44188219650312123")),退役军人,2099-12-31,二级
            LZ0010,李四,\(CLI.idNumber("44188219700101456")),残疾军人,2099-12-31,十一级

            """
        let run = try cli.run("cards", "import", try cli.write("wrong.csv", wrong))
        #expect(run.status != 0)
        #expect(run.stderr.contains("line 2") && run.stderr.contains("残疾军人"))
        #expect(run.stderr.contains("line 3") && run.stderr.contains("十一级"))
        #expect(try cli.sqlite("SELECT count(*) FROM cards") == "0")
    }
}
