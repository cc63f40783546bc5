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

    public init(year: Int, asOf: String, cards: Cards, shops: Shops, verifications: Verifications, funnel: [Count]) {
        self.year = year
        self.asOf = asOf
        self.cards = cards
        self.shops = shops
        self.verifications = verifications
        self.funnel = funnel
    }

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
        let asOf = YearReport.asOf(year: year, today: today)
        return try dbWriter.read { db in
            YearReport(
                year: year,
                asOf: asOf,
                cards: YearReport.cards(year: year, asOf: asOf, groups: try Self.yearCardGroups(db)),
                shops: YearReport.shops(asOf: asOf, groups: try Self.yearShopGroups(db), batches: try Self.yearBatches(db, year: year)),
                verifications: try Self.yearVerifications(db, year: year),
                funnel: YearReport.funnel(try Self.yearFunnelRows(db, year: year))
            )
        }
    }

    static func yearCardGroups(_ db: Database) throws -> [YearReport.CardGroup] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT category, date(created_at, '+8 hours'), valid_until, status, date(revoked_at, '+8 hours'), COUNT(*)
                FROM cards GROUP BY 1, 2, 3, 4, 5
                """
        ).map { YearReport.CardGroup(category: $0[0], createdDay: $0[1], validUntil: $0[2], status: $0[3], revokedDay: $0[4], count: $0[5]) }
    }

    static func yearShopGroups(_ db: Database) throws -> [YearReport.ShopGroup] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT industry, date(created_at, '+8 hours'), status, date(status_changed_at, '+8 hours'), COUNT(*)
                FROM merchants GROUP BY 1, 2, 3, 4
                """
        ).map { YearReport.ShopGroup(industry: $0[0], createdDay: $0[1], status: $0[2], statusChangedDay: $0[3], count: $0[4]) }
    }

    static func yearBatches(_ db: Database, year: Int) throws -> [BatchSummary] {
        let days = YearReport.batchDays(year: year)
        return try Batch.filter(sql: "opened_on >= ? AND opened_on <= ?", arguments: [days.first, days.last])
            .order(Column("number")).fetchAll(db).map { try summary(of: $0, db) }
    }

    static func yearFunnelRows(_ db: Database, year: Int) throws -> [YearReport.FunnelRow] {
        let days = YearReport.batchDays(year: year)
        return try Row.fetchAll(
            db,
            sql: """
                SELECT a.id, a.stage, a.rejected_at_stage, e.from_stage, e.to_stage
                FROM applications a JOIN batches b ON b.number = a.batch_number
                LEFT JOIN application_events e ON e.application_id = a.id
                WHERE b.opened_on >= ? AND b.opened_on <= ?
                """,
            arguments: [days.first, days.last]
        ).map { YearReport.FunnelRow(applicationID: $0[0], stage: $0[1], rejectedAtStage: $0[2], fromStage: $0[3], toStage: $0[4]) }
    }
}
