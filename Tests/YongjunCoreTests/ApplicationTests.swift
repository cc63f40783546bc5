import Foundation
import Testing
import YongjunCore

/// A credit code with a correct GB 32100 check character.
func validCreditCode(_ first17: String) -> String {
    first17 + String(CreditCode.checkCharacter(for: first17)!)
}

@Suite("Shop applications")
struct ApplicationTests {
    @Test("GB 32100 credit codes are checked: length, alphabet, check character")
    func creditCodes() throws {
        #expect(try CreditCode("91350100M000100Y43").value == "91350100M000100Y43")
        #expect(try CreditCode(" 91110000600037341l ").value == "91110000600037341L")
        #expect(throws: CreditCode.Problem.badChecksum(expected: "3", found: "4")) { try CreditCode("91350100M000100Y44") }
        #expect(throws: CreditCode.Problem.wrongLength(17)) { try CreditCode("91350100M000100Y4") }
        #expect(throws: CreditCode.Problem.invalidCharacter("I", position: 9)) { try CreditCode("91350100I000100Y43") }
    }

    @Test("stages advance one at a time and stop at discussion")
    func stages() {
        #expect(ReviewStage.materials.next == .qualification)
        #expect(ReviewStage.inspection.next == .discussion)
        #expect(ReviewStage.discussion.next == nil)
        #expect(ReviewStage.rejected.next == nil)
        #expect(ReviewStage(codeOrLabel: "实地考核") == .inspection)
        #expect(ReviewStage.allCases.map(\.label) == ["收集资料", "资格审核", "实地考核", "讨论方案", "开会通过", "未通过"])
    }

    @Test("an applications file with a Chinese header imports; every bad row is named with its line")
    func importRows() {
        let good = validCreditCode("91441882MA4W00001")
        let other = validCreditCode("91441882MA4W00002")
        let ok = ApplicationImport.parse(
            """
            门店名称,统一社会信用代码,行业,地址,联系人,联系电话,优惠内容
            老兵汽修,\(good),车辆维修,连州市中山南路18号,陈师傅,13800138000,工时费9折
            拥军饭店,\(other),catering,连州市北湖路6号,李经理,0763-6612345,"凭优待证享9折,节假日除外"
            """
        )
        #expect(ok.problems.isEmpty)
        #expect(ok.applications.map(\.industry) == [.vehicleRepair, .catering])
        #expect(ok.applications[1].benefit == "凭优待证享9折,节假日除外")
        #expect(ok.applications[1].line == 3)

        let bad = ApplicationImport.parse(
            """
            shop_name,credit_code,industry,address,contact,phone,benefit
            A,\(good),catering,addr,c,13800138000,b
            B,\(String(good.dropLast()) + (good.last == "0" ? "1" : "0")),catering,addr,c,13800138000,b
            C,\(other),banking,addr,c,13800138000,b
            D,\(other),catering,addr,c,123,b
            E,\(good),catering,addr,c,13800138000,b
            F,\(other),catering,,c,13800138000,b
            """
        )
        #expect(bad.applications.isEmpty)
        #expect(bad.problems.map(\.line) == [3, 4, 5, 6, 7])
        #expect(bad.problems[0].reason.contains("GB 32100"))
        #expect(bad.problems[1].reason.contains("\"banking\" is not a known industry"))
        #expect(bad.problems[2].reason.contains("phone (联系电话)"))
        #expect(bad.problems[3].reason.contains("already applies on line 2"))
        #expect(bad.problems[4].reason.contains("address (地址) is empty"))
    }

    @Test("GB18030 text is detected and decoded; undecodable bytes are refused")
    func encodings() {
        let gbk: [UInt8] = [0xC3, 0xC5, 0xB5, 0xEA, 0xC3, 0xFB, 0xB3, 0xC6]  // 门店名称
        #expect(TextDecoding.decode(gbk)?.text == "门店名称")
        #expect(TextDecoding.decode(gbk)?.encoding == .gb18030)
        #expect(TextDecoding.decode(Array("门店".utf8))?.encoding == .utf8)
        #expect(TextDecoding.decode(gbk, as: .utf8) == nil)
        #expect(TextDecoding.decode([0xFF, 0xFF]) == nil)
        #expect(TextEncoding(name: "GBK") == .gb18030)
    }
}

@Suite("Audit chain")
struct AuditChainTests {
    let chain = AuditChain(keyBytes: Array(repeating: 9, count: 32))

    func entries(_ count: Int) -> [AuditEntry] {
        var result: [AuditEntry] = []
        var previous = ""
        for seq in 1...Int64(count) {
            let hash = chain.hash(seq: seq, at: "t\(seq)", operatorName: "王", action: "a", subject: "s\(seq)", details: "{}", previousHash: previous)
            result.append(
                AuditEntry(
                    seq: seq,
                    at: "t\(seq)",
                    operatorName: "王",
                    action: "a",
                    subject: "s\(seq)",
                    details: "{}",
                    previousHash: previous,
                    hash: hash
                )
            )
            previous = hash
        }
        return result
    }

    @Test("an intact chain verifies; an edit, a deletion, a swap or a cut end is found at the first bad entry")
    func tampering() {
        let log = entries(5)
        #expect(chain.firstProblem(in: log, seal: chain.readSeal(chain.sealText(AuditHead(count: 5, lastHash: log[4].hash)))) == nil)
        var edited = log
        edited[2].subject = "changed"
        #expect(chain.firstProblem(in: edited)?.seq == 3)
        var deleted = log
        deleted.remove(at: 1)
        #expect(chain.firstProblem(in: deleted)?.seq == 2)
        var swapped = log
        swapped.swapAt(1, 2)
        #expect(chain.firstProblem(in: swapped)?.seq == 2)
        #expect(chain.firstProblem(in: Array(log.prefix(4)), seal: .sealed(AuditHead(count: 5, lastHash: log[4].hash)))?.seq == 5)
        let otherKey = AuditChain(keyBytes: Array(repeating: 8, count: 32))
        #expect(otherKey.firstProblem(in: log)?.seq == 1)
    }

    @Test("a head sealed with the audit key reads back; a bare count is unsealed; another key's seal or an edited count is forged")
    func seals() {
        let head = AuditHead(count: 5, lastHash: entries(5)[4].hash)
        let text = chain.sealText(head)
        #expect(chain.readSeal(text) == .sealed(head))
        #expect(chain.readSeal(nil) == .missing)
        #expect(chain.readSeal("5\n") == .unsealed(count: 5))
        #expect(AuditChain(keyBytes: Array(repeating: 8, count: 32)).readSeal(text) == .forged)
        #expect(chain.readSeal(text.replacingOccurrences(of: " 5 ", with: " 4 ")) == .forged)
        #expect(chain.readSeal(chain.sealText(AuditHead(count: 0, lastHash: ""))) == .sealed(AuditHead(count: 0, lastHash: "")))
        let behind = chain.firstProblem(in: entries(6), seal: .sealed(head))
        #expect(behind?.kind == .unsealedTail && behind?.seq == 6)
        #expect(chain.firstProblem(in: [], seal: .missing) == nil)
        #expect(chain.firstProblem(in: entries(1), seal: .missing)?.kind == .head)
    }
}
