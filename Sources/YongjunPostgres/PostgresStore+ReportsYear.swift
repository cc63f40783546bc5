import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    /// Every query of the report reads one snapshot (REPEATABLE READ), as SQLite's one read transaction does.
    public func yearReport(year: Int, today: CalendarDate) async throws -> YearReport {
        let asOf = YearReport.asOf(year: year, today: today)
        let logger = logger
        return try await client.inTransaction(logger: logger) { connection in
            _ = try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger).collect()
            let cards = try await Self.yearCardGroups(connection, logger: logger)
            let shops = try await Self.yearShopGroups(connection, logger: logger)
            let batches = try await Self.yearBatches(connection, year: year, logger: logger)
            let verifications = try await Self.yearVerifications(connection, year: year, logger: logger)
            let funnel = try await Self.yearFunnelRows(connection, year: year, logger: logger)
            return YearReport(
                year: year,
                asOf: asOf,
                cards: YearReport.cards(year: year, asOf: asOf, groups: cards),
                shops: YearReport.shops(asOf: asOf, groups: shops, batches: batches),
                verifications: verifications,
                funnel: YearReport.funnel(funnel)
            )
        }
    }

    // China days as SQLite's `date(x, '+8 hours')` gives them (NULL stays NULL).
    static func yearCardGroups(_ connection: PostgresConnection, logger: Logger) async throws -> [YearReport.CardGroup] {
        try await connection.query(
            """
            SELECT category, to_char((created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD'), valid_until, status,
                to_char((revoked_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD'), COUNT(*)
            FROM cards GROUP BY 1, 2, 3, 4, 5
            """,
            logger: logger
        ).collect().map { row in
            let (category, created, until, status, revoked, count) = try row.decode((String, String?, String, String, String?, Int64).self)
            return YearReport.CardGroup(
                category: category,
                createdDay: created,
                validUntil: until,
                status: status,
                revokedDay: revoked,
                count: Int(count)
            )
        }
    }

    static func yearShopGroups(_ connection: PostgresConnection, logger: Logger) async throws -> [YearReport.ShopGroup] {
        try await connection.query(
            """
            SELECT industry, to_char((created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD'), status,
                to_char((status_changed_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD'), COUNT(*)
            FROM merchants GROUP BY 1, 2, 3, 4
            """,
            logger: logger
        ).collect().map { row in
            let (industry, created, status, changed, count) = try row.decode((String, String?, String, String?, Int64).self)
            return YearReport.ShopGroup(industry: industry, createdDay: created, status: status, statusChangedDay: changed, count: Int(count))
        }
    }

    static func yearBatches(_ connection: PostgresConnection, year: Int, logger: Logger) async throws -> [BatchSummary] {
        let days = YearReport.batchDays(year: year)
        let batches = try await connection.query(
            "SELECT row_to_json(batches)::text FROM batches WHERE opened_on >= \(days.first) AND opened_on <= \(days.last) ORDER BY number",
            logger: logger
        ).collect().map { try decodeRecord(Batch.self, $0) }
        var summaries: [BatchSummary] = []
        for batch in batches { summaries.append(try await summary(of: batch, connection, logger: logger)) }
        return summaries
    }

    static func yearVerifications(_ connection: PostgresConnection, year: Int, logger: Logger) async throws -> YearReport.Verifications {
        let range = YearReport.timeRange(year: year)
        let groups = try await connection.query(
            """
            SELECT merchant_id, EXTRACT(MONTH FROM (created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours')::bigint, valid, offline,
                COUNT(*)
            FROM verifications WHERE created_at >= \(range.lower) AND created_at < \(range.upper)
            GROUP BY 1, 2, 3, 4
            """,
            logger: logger
        ).collect().map { row in
            let (merchant, month, valid, offline, count) = try row.decode((Int64, Int64?, Int64, Int64, Int64).self)
            return YearReport.VerificationGroup(
                merchantID: merchant,
                month: month.map(Int.init),
                valid: valid != 0,
                offline: offline != 0,
                count: Int(count)
            )
        }
        let uniqueHolders =
            try await connection.query(
                """
                SELECT COUNT(DISTINCT card_id) FROM verifications
                WHERE valid = 1 AND card_id IS NOT NULL AND created_at >= \(range.lower) AND created_at < \(range.upper)
                """,
                logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
        let shops = try await connection.query("SELECT id, name, industry, address FROM merchants", logger: logger).collect().map { row in
            let (id, name, industry, address) = try row.decode((Int64, String, String, String?).self)
            return YearReport.Shop(id: id, name: name, industry: industry, address: address)
        }
        return YearReport.verifications(year: year, groups: groups, uniqueHolders: Int(uniqueHolders), shops: shops)
    }

    static func yearFunnelRows(_ connection: PostgresConnection, year: Int, logger: Logger) async throws -> [YearReport.FunnelRow] {
        let days = YearReport.batchDays(year: year)
        return try await connection.query(
            """
            SELECT a.id, a.stage, a.rejected_at_stage, e.from_stage, e.to_stage
            FROM applications a JOIN batches b ON b.number = a.batch_number
            LEFT JOIN application_events e ON e.application_id = a.id
            WHERE b.opened_on >= \(days.first) AND b.opened_on <= \(days.last)
            """,
            logger: logger
        ).collect().map { row in
            let (id, stage, rejectedAt, from, to) = try row.decode((Int64, String?, String?, String?, String?).self)
            return YearReport.FunnelRow(applicationID: id, stage: stage, rejectedAtStage: rejectedAt, fromStage: from, toStage: to)
        }
    }
}
