import Foundation

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
