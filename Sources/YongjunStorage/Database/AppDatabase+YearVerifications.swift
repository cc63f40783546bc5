import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    static func yearVerifications(_ db: Database, year: Int) throws -> YearReport.Verifications {
        let range = YearReport.timeRange(year: year)
        let groups = try Row.fetchAll(
            db,
            sql: """
                SELECT merchant_id, CAST(strftime('%m', created_at, '+8 hours') AS INTEGER), valid, offline, COUNT(*)
                FROM verifications WHERE created_at >= ? AND created_at < ?
                GROUP BY 1, 2, 3, 4
                """,
            arguments: [range.lower, range.upper]
        ).map { YearReport.VerificationGroup(merchantID: $0[0], month: $0[1], valid: $0[2], offline: $0[3], count: $0[4]) }
        let uniqueHolders =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT card_id) FROM verifications
                    WHERE valid = 1 AND card_id IS NOT NULL AND created_at >= ? AND created_at < ?
                    """,
                arguments: [range.lower, range.upper]
            ) ?? 0
        let shops = try Row.fetchAll(db, sql: "SELECT id, name, industry, address FROM merchants").map {
            YearReport.Shop(id: $0[0], name: $0[1], industry: $0[2], address: $0[3])
        }
        return YearReport.verifications(year: year, groups: groups, uniqueHolders: uniqueHolders, shops: shops)
    }
}
