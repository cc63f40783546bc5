import Foundation
import GRDB
import YongjunCore

/// The bureau's yearly figures for one China-time calendar year: cards, partner shops, verifications, the review.
///
/// "Active" is judged on `asOf`: 31 December, or the day the report runs while the year is still going. A card or
/// shop revoked (or suspended) after `asOf` counts as active then; the register keeps only a shop's latest change.
public struct YearReport: Sendable, Codable, Equatable {
    public var year: Int
    public var asOf: String
    public var cards: Cards
    public var shops: Shops
    public var verifications: Verifications
    /// Applications of the year's batches: applied, then how many reached 资格审核, 实地考核, 讨论方案, 开会通过.
    public var funnel: [Count]

    /// A key (category, industry, stage), what people read for it, and how many.
    public struct Count: Sendable, Codable, Equatable {
        public var key: String
        public var label: String
        public var count: Int
    }

    public struct CategoryCount: Sendable, Codable, Equatable {
        public var category: String
        public var label: String
        /// Cards created in the year, and cards not revoked and still valid on `asOf`.
        public var issued: Int
        public var active: Int
    }

    public struct Cards: Sendable, Codable, Equatable {
        public var issued: Int
        public var active: Int
        /// Every category the register knows, in its order, then any unknown codes found in the table.
        public var byCategory: [CategoryCount]
    }

    public struct BatchCount: Sendable, Codable, Equatable {
        public var batch: Int64
        public var openedOn: String
        public var meetingDate: String?
        public var applied: Int
        public var approved: Int
        public var rejected: Int
        public var underReview: Int
    }

    public struct Shops: Sendable, Codable, Equatable {
        /// Partner shops active on `asOf`, and those by industry.
        public var active: Int
        public var byIndustry: [Count]
        /// Batches opened in the year.
        public var byBatch: [BatchCount]
    }

    public struct Verifications: Sendable, Codable, Equatable {
        public var total: Int
        public var valid: Int
        public var rejected: Int
        /// Verifications recorded from shop devices' offline uploads, and their share of all.
        public var offline: Int
        public var offlineShare: Double
        /// Distinct cards with at least one valid verification.
        public var uniqueHolders: Int
        /// Twelve months, keyed YYYY-MM.
        public var byMonth: [VerificationTally]
        public var byIndustry: [VerificationTally]
        /// By the town (镇), township (乡) or subdistrict (街道) in the shop's address; 其他 when none is named.
        public var byArea: [VerificationTally]
        /// The ten shops with the most valid verifications, keyed by merchant id.
        public var topShops: [VerificationTally]
    }
}

extension AppDatabase {
    /// The figures for `year`; `today` (China time) bounds "active" while the year is still running.
    public func yearReport(year: Int, today: CalendarDate) throws -> YearReport {
        let yearEnd = CalendarDate(year: year, month: 12, day: 31) ?? today
        let asOf = min(yearEnd, today).description
        let yearText = padded(year, 4)
        return try dbWriter.read { db in
            YearReport(
                year: year,
                asOf: asOf,
                cards: try Self.yearCards(db, year: yearText, asOf: asOf),
                shops: try Self.yearShops(db, year: yearText, asOf: asOf),
                verifications: try Self.yearVerifications(db, year: yearText),
                funnel: try Self.yearFunnel(db, year: yearText)
            )
        }
    }

    static func yearCards(_ db: Database, year: String, asOf: String) throws -> YearReport.Cards {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT category, SUM(strftime('%Y', created_at, '+8 hours') = ?),
                    SUM(date(created_at, '+8 hours') <= ? AND valid_until >= ? AND (status = 'active' OR date(revoked_at, '+8 hours') > ?))
                FROM cards GROUP BY category
                """,
            arguments: [year, asOf, asOf, asOf]
        )
        var counts = Dictionary(uniqueKeysWithValues: rows.map { row -> (String, (Int, Int)) in (row[0], (row[1] ?? 0, row[2] ?? 0)) })
        var byCategory = CardCategory.allCases.map { category in
            let (issued, active) = counts.removeValue(forKey: category.rawValue) ?? (0, 0)
            return YearReport.CategoryCount(category: category.rawValue, label: category.label, issued: issued, active: active)
        }
        byCategory += counts.sorted { $0.key < $1.key }.map {
            YearReport.CategoryCount(category: $0.key, label: "无法识别", issued: $0.value.0, active: $0.value.1)
        }
        return YearReport.Cards(issued: byCategory.map(\.issued).reduce(0, +), active: byCategory.map(\.active).reduce(0, +), byCategory: byCategory)
    }

    static func yearShops(_ db: Database, year: String, asOf: String) throws -> YearReport.Shops {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT industry, COUNT(*) FROM merchants
                WHERE date(created_at, '+8 hours') <= ? AND (status = 'active' OR date(status_changed_at, '+8 hours') > ?)
                GROUP BY industry
                """,
            arguments: [asOf, asOf]
        )
        let byIndustry = counts(rows, keys: Industry.allCases.map { ($0.rawValue, $0.label) })
        let batches = try Batch.filter(sql: "opened_on >= ? AND opened_on <= ?", arguments: [year + "-01-01", year + "-12-31"])
            .order(Column("number")).fetchAll(db)
        let byBatch = try batches.map { batch in
            let summary = try summary(of: batch, db)
            return YearReport.BatchCount(
                batch: summary.number,
                openedOn: summary.openedOn,
                meetingDate: summary.meetingDate,
                applied: summary.applied,
                approved: summary.approved,
                rejected: summary.rejected,
                underReview: summary.applied - summary.approved - summary.rejected
            )
        }
        return YearReport.Shops(active: byIndustry.map(\.count).reduce(0, +), byIndustry: byIndustry, byBatch: byBatch)
    }

    /// Counts keyed by code, in the order of `keys`, then any codes found that `keys` does not know.
    static func counts(_ rows: [Row], keys: [(String, String)]) -> [YearReport.Count] {
        var found = Dictionary(uniqueKeysWithValues: rows.map { row -> (String, Int) in (row[0], row[1]) })
        let known = keys.map { YearReport.Count(key: $0.0, label: $0.1, count: found.removeValue(forKey: $0.0) ?? 0) }
        return known + found.sorted { $0.key < $1.key }.map { YearReport.Count(key: $0.key, label: $0.key, count: $0.value) }
    }

    static func yearFunnel(_ db: Database, year: String) throws -> [YearReport.Count] {
        // How far each application got: its stage, the stage it was rejected at, and every stage its history names.
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.stage, a.rejected_at_stage, e.from_stage, e.to_stage
                FROM applications a JOIN batches b ON b.number = a.batch_number
                LEFT JOIN application_events e ON e.application_id = a.id
                WHERE b.opened_on >= ? AND b.opened_on <= ?
                """,
            arguments: [year + "-01-01", year + "-12-31"]
        )
        let order: [ReviewStage] = ReviewStage.reviewOrder + [.approved]
        var furthest: [Int64: Int] = [:]
        for row in rows {
            let id: Int64 = row[0]
            let named: [String?] = [row[1], row[2], row[3], row[4]]
            let reached = named.compactMap { $0.flatMap(ReviewStage.init(rawValue:)).flatMap(order.firstIndex(of:)) }.max() ?? 0
            furthest[id] = max(furthest[id] ?? 0, reached)
        }
        return order.enumerated().map { index, stage in
            YearReport.Count(
                key: index == 0 ? "applied" : stage.rawValue,
                label: index == 0 ? "提交申请" : stage.label,
                count: furthest.values.filter { $0 >= index }.count
            )
        }
    }
}
