import Foundation

/// One line of what a partner shop gives: to whom, what, and within which limits.
public struct BenefitRule: Sendable, Equatable, Codable {
    /// The categories it applies to; nil = every holder.
    public var categories: [CardCategory]?
    /// What the cashier reads and gives, e.g. 凭优待证享9折.
    public var benefit: String
    /// At most once per China calendar day per holder at this shop.
    public var oncePerDay: Bool
    /// ISO weekdays it applies on (1 = Monday … 7 = Sunday); nil = every day.
    public var weekdays: [Int]?
    public var validFrom: CalendarDate?
    public var validUntil: CalendarDate?

    public init(
        categories: [CardCategory]?,
        benefit: String,
        oncePerDay: Bool = false,
        weekdays: [Int]? = nil,
        validFrom: CalendarDate? = nil,
        validUntil: CalendarDate? = nil
    ) {
        self.categories = categories
        self.benefit = benefit
        self.oncePerDay = oncePerDay
        self.weekdays = weekdays
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Whether the rule covers `category` on `day`, leaving the once-per-day limit aside.
    public func covers(_ category: CardCategory, on day: CalendarDate) -> Bool {
        if let categories, !categories.contains(category) { return false }
        if let weekdays, !weekdays.contains(day.isoWeekday) { return false }
        if let validFrom, day < validFrom { return false }
        if let validUntil, validUntil < day { return false }
        return true
    }

    /// 退役军人、烈属 / 全部 — for pages and the CLI.
    public var categoriesLabel: String { categories.map { $0.map(\.label).joined(separator: "、") } ?? "全部优待对象" }

    /// 每日一次 · 周一至周五 · 2026-01-01 起 — the limits in words, empty when there are none.
    public var limitsLabel: String {
        var parts: [String] = []
        if oncePerDay { parts.append("每人每日一次") }
        if let weekdays { parts.append("仅" + weekdays.sorted().map { "周" + ["一", "二", "三", "四", "五", "六", "日"][$0 - 1] }.joined(separator: "、")) }
        if let validFrom { parts.append("\(validFrom) 起") }
        if let validUntil { parts.append("至 \(validUntil)") }
        return parts.joined(separator: " · ")
    }
}

/// What a shop's rules give one holder on one day.
public enum BenefitDecision: Sendable, Equatable {
    /// Eligible; the benefit text (nil when the shop has no rules and no benefit text).
    case eligible(String?, rule: Int?)
    /// Genuine card, but no rule covers it here today, or every covering rule's daily limit is reached.
    case notEligible
}

extension [BenefitRule] {
    /// The first rule that covers `category` today and whose daily limit is not reached (`usedToday(rule index)`
    /// says whether this holder already had that rule's benefit here today). A shop without rules gives its
    /// free-text `fallback` to everyone.
    public func decide(
        category: CardCategory,
        day: CalendarDate,
        fallback: String?,
        usedToday: (Int) throws -> Bool
    ) rethrows -> BenefitDecision {
        guard !isEmpty else { return .eligible(fallback, rule: nil) }
        for (index, rule) in enumerated() where rule.covers(category, on: day) {
            if rule.oncePerDay, try usedToday(index) { continue }
            return .eligible(rule.benefit, rule: index)
        }
        return .notEligible
    }
}

extension CalendarDate {
    /// 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int { ((daysSinceEpoch % 7 + 7) % 7 + 3) % 7 + 1 }
}

/// Reads a shop's rules from the bureau's file: CSV (header in English or Chinese) or a JSON array.
///
/// CSV: `categories,benefit,once_per_day,weekdays,valid_from,valid_until` (or 适用类别,优惠内容,每日一次,星期,开始日期,结束日期);
/// categories `all`/`全部` or codes/labels joined by `|` or `、`; once_per_day `yes`/`是`/`1`; weekdays like `1-5` or
/// `6|7`. JSON: `[{"categories": ["veteran"], "benefit": "…", "oncePerDay": true, "weekdays": [6, 7],
/// "validFrom": "2026-01-01", "validUntil": "2026-12-31"}]` (categories null or absent = all).
public enum BenefitRuleFile {
    public static func parse(_ text: String) -> Result<[BenefitRule], ImportProblem> {
        let trimmed = text.trimmingWhitespace()
        let rules: [BenefitRule]
        if trimmed.hasPrefix("[") {
            struct Entry: Decodable {
                var categories: [String]?
                var benefit: String
                var oncePerDay: Bool?
                var weekdays: [Int]?
                var validFrom: String?
                var validUntil: String?
            }
            let entries: [Entry]
            do {
                entries = try JSONDecoder().decode([Entry].self, from: Data(trimmed.utf8))
            } catch {
                return .failure(ImportProblem(line: 1, reason: "not a JSON array of rules {\"categories\", \"benefit\", …}"))
            }
            var built: [BenefitRule] = []
            for (index, entry) in entries.enumerated() {
                switch rule(
                    categories: entry.categories,
                    benefit: entry.benefit,
                    oncePerDay: entry.oncePerDay ?? false,
                    weekdays: entry.weekdays,
                    validFrom: entry.validFrom,
                    validUntil: entry.validUntil,
                    line: index + 1
                ) {
                case .success(let rule): built.append(rule)
                case .failure(let problem): return .failure(problem)
                }
            }
            rules = built
        } else {
            let table: CSVTable
            do {
                table = try CSVTable(parsing: text)
            } catch {
                return .failure(ImportProblem(line: error.line, reason: error.reason))
            }
            guard let headerRow = table.rows.first else { return .failure(ImportProblem(line: 1, reason: "the file is empty")) }
            let names: [String: [String]] = [
                "categories": ["categories", "适用类别"], "benefit": ["benefit", "优惠内容"], "once_per_day": ["once_per_day", "每日一次"],
                "weekdays": ["weekdays", "星期"], "valid_from": ["valid_from", "开始日期"], "valid_until": ["valid_until", "结束日期"],
            ]
            let header = headerRow.fields.map { $0.trimmingWhitespace().lowercased() }
            func column(_ key: String) -> Int? { header.firstIndex { names[key]!.contains($0) } }
            guard let benefitColumn = column("benefit") else {
                return .failure(ImportProblem(line: 1, reason: "the header needs a benefit (优惠内容) column"))
            }
            var built: [BenefitRule] = []
            for row in table.rows.dropFirst() {
                func field(_ key: String) -> String {
                    guard let index = column(key), index < row.fields.count else { return "" }
                    return row.fields[index].trimmingWhitespace()
                }
                let categoryText = field("categories")
                let categories: [String]? =
                    ["", "all", "全部", "*"].contains(categoryText.lowercased())
                    ? nil : categoryText.split(whereSeparator: { $0 == "|" || $0 == "、" || $0 == ";" }).map(String.init)
                var weekdays: [Int]?
                let weekdayText = field("weekdays")
                if !weekdayText.isEmpty {
                    var days: [Int] = []
                    for part in weekdayText.split(whereSeparator: { $0 == "|" || $0 == "、" || $0 == ";" }) {
                        let bounds = part.split(separator: "-").compactMap { Int($0.trimmingWhitespace()) }
                        guard (1...2).contains(bounds.count), bounds.allSatisfy({ (1...7).contains($0) }), bounds.first! <= bounds.last! else {
                            return .failure(
                                ImportProblem(line: row.line, reason: "weekdays \"\(weekdayText)\": use 1 (Monday) to 7 (Sunday), like 1-5 or 6|7")
                            )
                        }
                        days += Array(bounds.first!...bounds.last!)
                    }
                    weekdays = days
                }
                let once = field("once_per_day").lowercased()
                guard ["", "yes", "no", "是", "否", "1", "0", "true", "false"].contains(once) else {
                    return .failure(ImportProblem(line: row.line, reason: "once_per_day \"\(once)\": use yes/no (是/否)"))
                }
                switch rule(
                    categories: categories,
                    benefit: benefitColumn < row.fields.count ? row.fields[benefitColumn].trimmingWhitespace() : "",
                    oncePerDay: ["yes", "是", "1", "true"].contains(once),
                    weekdays: weekdays,
                    validFrom: field("valid_from").isEmpty ? nil : field("valid_from"),
                    validUntil: field("valid_until").isEmpty ? nil : field("valid_until"),
                    line: row.line
                ) {
                case .success(let rule): built.append(rule)
                case .failure(let problem): return .failure(problem)
                }
            }
            rules = built
        }
        guard rules.count <= 20 else { return .failure(ImportProblem(line: 1, reason: "at most 20 rules per shop")) }
        return .success(rules)
    }

    static func rule(
        categories: [String]?,
        benefit: String,
        oncePerDay: Bool,
        weekdays: [Int]?,
        validFrom: String?,
        validUntil: String?,
        line: Int
    ) -> Result<BenefitRule, ImportProblem> {
        func fail(_ reason: String) -> Result<BenefitRule, ImportProblem> { .failure(ImportProblem(line: line, reason: reason)) }
        let text = benefit.trimmingWhitespace()
        guard !text.isEmpty, text.count <= 200 else { return fail("benefit must be 1-200 characters") }
        if let control = TerminalText.firstControlCharacter(in: text) { return fail("benefit contains \(TerminalText.name(control))") }
        var parsed: [CardCategory]?
        if let categories {
            var found: [CardCategory] = []
            for name in categories {
                guard let category = CardCategory(codeOrLabel: name) else {
                    return fail("\"\(name)\" is not a category; use all (全部) or \(CardCategory.acceptedValues)")
                }
                if !found.contains(category) { found.append(category) }
            }
            guard !found.isEmpty else { return fail("categories is empty; write all (全部) for every holder") }
            parsed = found
        }
        if let weekdays, weekdays.isEmpty || !weekdays.allSatisfy({ (1...7).contains($0) }) {
            return fail("weekdays must be 1 (Monday) to 7 (Sunday)")
        }
        var from: CalendarDate?
        var until: CalendarDate?
        if let validFrom {
            guard let date = CalendarDate(iso: validFrom) else { return fail("valid_from \"\(validFrom)\" is not YYYY-MM-DD") }
            from = date
        }
        if let validUntil {
            guard let date = CalendarDate(iso: validUntil) else { return fail("valid_until \"\(validUntil)\" is not YYYY-MM-DD") }
            until = date
        }
        if let from, let until, until < from { return fail("valid_until is before valid_from") }
        let days = weekdays.map { Array(Set($0)).sorted() }
        return .success(BenefitRule(categories: parsed, benefit: text, oncePerDay: oncePerDay, weekdays: days, validFrom: from, validUntil: until))
    }
}
