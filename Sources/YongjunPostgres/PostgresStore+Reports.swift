import Foundation
import PostgresNIO
import YongjunCore
import YongjunStorage

/// The reports on PostgreSQL: each query groups rows as SQLite's does (China time as UTC + 8 hours, the same
/// text ranges on ids and timestamps), and the report is counted by the same shared code.
extension PostgresStore: ReportsStore {
    public func verificationReport(from: CalendarDate, to: CalendarDate, merchantID: Int64?) async throws -> VerificationReport {
        let range = VerificationReport.idRange(from: from, to: to)
        // Ids are upper-case Crockford base32 of one length: any collation orders them as SQLite does.
        let rows = try await client.query(
            """
            SELECT v.merchant_id, m.name, c.category,
                to_char((v.created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM'),
                v.valid, v.reason, COUNT(*), SUM(v.offline)::bigint, COUNT(v.conflict)
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.id >= \(range.lower) AND v.id < \(range.upper) AND (\(merchantID)::bigint IS NULL OR v.merchant_id = \(merchantID))
            GROUP BY 1, 2, 3, 4, 5, 6
            """,
            logger: logger
        ).collect()
        let groups = try rows.map { row in
            let (merchant, name, category, month, valid, reason, count, offline, flagged) = try row.decode(
                (Int64, String?, String?, String?, Int64, String?, Int64, Int64?, Int64).self
            )
            return VerificationReport.Group(
                merchantID: merchant,
                merchantName: name,
                category: category,
                month: month,
                valid: valid != 0,
                reason: reason,
                count: Int(count),
                offline: Int(offline ?? 0),
                flagged: Int(flagged)
            )
        }
        return VerificationReport(from: from, to: to, merchantID: merchantID, groups: groups)
    }

    public func offlineConflicts(from: CalendarDate, to: CalendarDate, merchantID: Int64?) async throws -> [OfflineConflict] {
        let range = OfflineConflict.receivedRange(from: from, to: to)
        let rows = try await client.query(
            """
            SELECT v.id, v.merchant_id, coalesce(m.name, '?'), v.created_at, v.received_at, c.card_no, v.device_result, v.valid,
                v.reason, v.conflict
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.offline = 1 AND v.conflict IS NOT NULL AND v.received_at >= \(range.lower) AND v.received_at < \(range.upper)
                AND (\(merchantID)::bigint IS NULL OR v.merchant_id = \(merchantID))
            ORDER BY v.received_at COLLATE "C", v.id COLLATE "C"
            """,
            logger: logger
        ).collect()
        return try rows.map { row in
            let (id, merchant, name, verifiedAt, receivedAt, cardNo, device, valid, reason, conflict) = try row.decode(
                (String, Int64, String, String, String?, String?, String?, Int64, String?, String).self
            )
            return OfflineConflict(
                verificationId: id,
                merchantId: merchant,
                merchantName: name,
                verifiedAt: verifiedAt,
                receivedAt: receivedAt,
                cardNo: cardNo,
                deviceResult: device,
                valid: valid != 0,
                reason: reason,
                conflict: conflict
            )
        }
    }
}
