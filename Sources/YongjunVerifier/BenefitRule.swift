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
