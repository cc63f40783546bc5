import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct MerchantsBenefits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benefits",
        abstract: "Show a shop's benefit rules, or replace them from a CSV or JSON file (--set).",
        discussion: """
            Rules are tried in order; the first that covers the holder's category today (and whose daily limit is not
            reached) gives its benefit; if none does, the answer is valid but eligible: false (not_eligible_here).
            A shop without rules gives its 优惠内容 to every holder. An approved application's 优惠内容 becomes the
            shop's first rule.

            CSV (English or Chinese header):
              categories,benefit,once_per_day,weekdays,valid_from,valid_until
              适用类别,优惠内容,每日一次,星期,开始日期,结束日期
              veteran|disabled_serviceman,凭优待证享9折,no,,,
              烈属|因公牺牲军人遗属|病故军人遗属,凭优待证享8折,yes,1-5,2026-01-01,2026-12-31
              all,免费洗车一次,yes,6|7,,
            categories: all (全部) or codes/labels joined by | or 、; weekdays 1 (Monday) … 7 (Sunday), ranges 1-5.
            JSON: [{"categories": ["veteran"], "benefit": "凭优待证享9折", "oncePerDay": false, "weekdays": [1,2,3,4,5],
                    "validFrom": "2026-01-01", "validUntil": "2026-12-31"}]   (categories absent or null = all)

            Examples: yongjun merchants benefits 3
                      yongjun merchants benefits 3 --set 老兵汽修优惠.csv
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Merchant id.") var id: Int64
    @Option(help: "A CSV or JSON file of rules that replaces the shop's rules (all or nothing).") var set: String?

    func run() async throws {
        var replacement: [BenefitRule]?
        if let set {
            guard let data = FileManager.default.contents(atPath: set) else { throw CLIFailure(message: "cannot read \(set)") }
            guard let text = TextDecoding.decode(Array(data))?.text else {
                throw CLIFailure(message: "\(set) is neither UTF-8 nor GBK text")
            }
            switch BenefitRuleFile.parse(text) {
            case .failure(let problem): throw CLIFailure(message: "\(set) \(problem.description); no rule was changed")
            case .success(let rules): replacement = rules
            }
        }
        // The audit key is needed only to change rules; showing them works without it, as before.
        let (id, audit) = (id, try replacement.map { _ in try global.audit() })
        let rules = try await global.withAdminStore { store in
            if let replacement, let audit {
                try await store.setBenefitRules(merchantID: id, rules: replacement, now: Date(), audit: audit)
                print("merchant \(id): \(replacement.count) rule(s) set")
            }
            return try await store.benefitRules(merchantID: id)
        }
        try output.emit(
            rules,
            header: ["#", "CATEGORIES", "BENEFIT", "LIMITS"],
            rows: rules.enumerated().map { [String($0.offset + 1), $0.element.categoriesLabel, $0.element.benefit, $0.element.limitsLabel] }
        )
    }
}
