import Foundation
import YongjunCore

/// What the year report counts, in one place for both stores: each store only groups rows (days and months in
/// China time) and hands them here.
extension YearReport {
    /// 31 December of `year`, or `today` while the year runs: the day "active" is judged on.
    public static func asOf(year: Int, today: CalendarDate) -> String {
        min(CalendarDate(year: year, month: 12, day: 31) ?? today, today).description
    }

    /// The first and last day a batch opened in `year` may carry (`opened_on` is a China calendar day).
    public static func batchDays(year: Int) -> (first: String, last: String) {
        (padded(year, 4) + "-01-01", padded(year, 4) + "-12-31")
    }

    /// The `created_at` range of `year` in China time, `lower ..< upper` (ISO-8601 UTC text sorts as time).
    public static func timeRange(year: Int) -> (lower: String, upper: String) {
        func start(_ year: Int) -> String {
            let day = CalendarDate(year: year, month: 1, day: 1) ?? CalendarDate(daysSinceEpoch: 0)
            return Timestamp.iso(Date(timeIntervalSince1970: TimeInterval(day.daysSinceEpoch * 86_400 - CalendarDate.chinaOffsetSeconds)))
        }
        return (start(year), start(year + 1))
    }

    /// Cards alike for the report: category, China day of creation, validity, status and China day of revocation.
    public struct CardGroup: Sendable, Equatable {
        public var category: String
        public var createdDay: String?
        public var validUntil: String
        public var status: String
        public var revokedDay: String?
        public var count: Int

        public init(category: String, createdDay: String?, validUntil: String, status: String, revokedDay: String?, count: Int) {
            self.category = category
            self.createdDay = createdDay
            self.validUntil = validUntil
            self.status = status
            self.revokedDay = revokedDay
            self.count = count
        }
    }

    /// Issued: created in `year` (China time). Active on `asOf`: created by then, valid through it, and not revoked
    /// or revoked only after it.
    public static func cards(year: Int, asOf: String, groups: [CardGroup]) -> Cards {
        let prefix = padded(year, 4) + "-"
        var counts: [String: (issued: Int, active: Int)] = [:]
        for group in groups {
            var count = counts[group.category] ?? (0, 0)
            if group.createdDay?.hasPrefix(prefix) == true { count.issued += group.count }
            if let created = group.createdDay, created <= asOf, group.validUntil >= asOf,
                group.status == "active" || (group.revokedDay.map { $0 > asOf } ?? false)
            {
                count.active += group.count
            }
            counts[group.category] = count
        }
        var byCategory = CardCategory.allCases.map { category in
            let (issued, active) = counts.removeValue(forKey: category.rawValue) ?? (0, 0)
            return CategoryCount(category: category.rawValue, label: category.label, issued: issued, active: active)
        }
        byCategory += counts.sorted { $0.key < $1.key }.map {
            CategoryCount(category: $0.key, label: "无法识别", issued: $0.value.issued, active: $0.value.active)
        }
        return Cards(issued: byCategory.map(\.issued).reduce(0, +), active: byCategory.map(\.active).reduce(0, +), byCategory: byCategory)
    }

    /// Shops alike for the report: industry, China day of creation, status and China day of its latest change.
    public struct ShopGroup: Sendable, Equatable {
        public var industry: String
        public var createdDay: String?
        public var status: String
        public var statusChangedDay: String?
        public var count: Int

        public init(industry: String, createdDay: String?, status: String, statusChangedDay: String?, count: Int) {
            self.industry = industry
            self.createdDay = createdDay
            self.status = status
            self.statusChangedDay = statusChangedDay
            self.count = count
        }
    }

    /// Shops active on `asOf` (created by then, and active or changed only after it) by industry, and the batches
    /// opened in the year.
    public static func shops(asOf: String, groups: [ShopGroup], batches: [BatchSummary]) -> Shops {
        var found: [String: Int] = [:]
        for group in groups {
            guard let created = group.createdDay, created <= asOf,
                group.status == "active" || (group.statusChangedDay.map { $0 > asOf } ?? false)
            else { continue }
            found[group.industry, default: 0] += group.count
        }
        let known = Industry.allCases.map { Count(key: $0.rawValue, label: $0.label, count: found.removeValue(forKey: $0.rawValue) ?? 0) }
        let byIndustry = known + found.sorted { $0.key < $1.key }.map { Count(key: $0.key, label: $0.key, count: $0.value) }
        let byBatch = batches.map { summary in
            BatchCount(
                batch: summary.number,
                openedOn: summary.openedOn,
                meetingDate: summary.meetingDate,
                applied: summary.applied,
                approved: summary.approved,
                rejected: summary.rejected,
                underReview: summary.applied - summary.approved - summary.rejected
            )
        }
        return Shops(active: byIndustry.map(\.count).reduce(0, +), byIndustry: byIndustry, byBatch: byBatch)
    }

    /// One application of the year's batches with one of its history events (nil when it has none).
    public struct FunnelRow: Sendable, Equatable {
        public var applicationID: Int64
        public var stage: String?
        public var rejectedAtStage: String?
        public var fromStage: String?
        public var toStage: String?

        public init(applicationID: Int64, stage: String?, rejectedAtStage: String?, fromStage: String?, toStage: String?) {
            self.applicationID = applicationID
            self.stage = stage
            self.rejectedAtStage = rejectedAtStage
            self.fromStage = fromStage
            self.toStage = toStage
        }
    }

    /// How many applications reached each stage: the furthest of its stage, the stage it was rejected at, and every
    /// stage its history names.
    public static func funnel(_ rows: [FunnelRow]) -> [Count] {
        let order: [ReviewStage] = ReviewStage.reviewOrder + [.approved]
        var furthest: [Int64: Int] = [:]
        for row in rows {
            let named = [row.stage, row.rejectedAtStage, row.fromStage, row.toStage]
            let reached = named.compactMap { $0.flatMap(ReviewStage.init(rawValue:)).flatMap(order.firstIndex(of:)) }.max() ?? 0
            furthest[row.applicationID] = max(furthest[row.applicationID] ?? 0, reached)
        }
        return order.enumerated().map { index, stage in
            Count(
                key: index == 0 ? "applied" : stage.rawValue,
                label: index == 0 ? "提交申请" : stage.label,
                count: furthest.values.filter { $0 >= index }.count
            )
        }
    }
}
