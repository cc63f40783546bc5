import Foundation
import GRDB
import YongjunCore

/// Counts of verifications for one shop, category, month or reason.
public struct VerificationTally: Sendable, Codable, Equatable {
    public var key: String
    public var label: String
    public var total = 0
    public var valid = 0
    public var rejected = 0
}

/// Verifications between two China calendar days (inclusive), counted several ways.
public struct VerificationReport: Sendable, Codable, Equatable {
    public var from: String
    public var to: String
    public var merchantId: Int64?
    public var total = 0
    public var valid = 0
    public var rejected = 0
    /// Recorded from shop devices' offline uploads, and how many of those disagree with the register.
    public var offline = 0
    public var flagged = 0
    public var byReason: [VerificationTally] = []
    public var byMerchant: [VerificationTally] = []
    public var byCategory: [VerificationTally] = []
    public var byMonth: [VerificationTally] = []
}

extension AppDatabase {
    public func verificationReport(from: CalendarDate, to: CalendarDate, merchantID: Int64? = nil) throws -> VerificationReport {
        // Record ids start with their time (ULID), so the day range becomes an id range on the clustered key.
        func bound(_ day: CalendarDate) -> String {
            RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, day.daysSinceEpoch * 86_400 - CalendarDate.chinaOffsetSeconds)) * 1000)
        }
        let end = CalendarDate(daysSinceEpoch: to.daysSinceEpoch + 1)
        var sql = """
            SELECT v.merchant_id, m.name, c.category, strftime('%Y-%m', v.created_at, '+8 hours'), v.valid, v.reason, COUNT(*),
                SUM(v.offline), SUM(v.conflict IS NOT NULL)
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.id >= ? AND v.id < ?
            """
        var arguments: StatementArguments = [bound(from), bound(end)]
        if let merchantID {
            sql += " AND v.merchant_id = ?"
            arguments += [merchantID]
        }
        sql += " GROUP BY 1, 2, 3, 4, 5, 6"
        let rows = try dbWriter.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
        var report = VerificationReport(from: from.description, to: to.description, merchantId: merchantID)
        var reasons: [String: VerificationTally] = [:]
        var merchants: [String: VerificationTally] = [:]
        var categories: [String: VerificationTally] = [:]
        var months: [String: VerificationTally] = [:]
        for row in rows {
            let merchant: Int64 = row[0]
            let category: String? = row[2]
            let valid: Bool = row[4]
            let reason: String = row[5] ?? "valid"
            let count: Int = row[6]
            func add(_ table: inout [String: VerificationTally], _ key: String, _ label: String) {
                var tally = table[key] ?? VerificationTally(key: key, label: label)
                tally.total += count
                if valid { tally.valid += count } else { tally.rejected += count }
                table[key] = tally
            }
            report.total += count
            report.offline += row[7] ?? 0
            report.flagged += row[8] ?? 0
            if valid { report.valid += count } else { report.rejected += count }
            add(&reasons, reason, VerificationReason(rawValue: reason)?.message ?? "有效")
            add(&merchants, String(merchant), row[1] ?? "?")
            add(&categories, category ?? "unknown", category.flatMap(CardCategory.init(rawValue:))?.label ?? "无法识别")
            add(&months, row[3] ?? "?", row[3] ?? "?")
        }
        report.byReason = reasons.values.sorted { ($0.total, $1.key) > ($1.total, $0.key) }
        report.byMerchant = merchants.values.sorted { (Int64($0.key) ?? 0) < (Int64($1.key) ?? 0) }
        report.byCategory = categories.values.sorted { ($0.total, $1.key) > ($1.total, $0.key) }
        report.byMonth = months.values.sorted { $0.key < $1.key }
        return report
    }
}

/// An offline record the server disagrees with: what the device said, what the register says, and why it matters.
public struct OfflineConflict: Sendable, Codable, Equatable {
    public var verificationId: String
    public var merchantId: Int64
    public var merchantName: String
    /// The device's time of the verification, and when the record reached the server.
    public var verifiedAt: String
    public var receivedAt: String
    public var cardNo: String?
    public var deviceResult: String
    public var serverResult: String
    public var conflict: String
}

extension AppDatabase {
    /// Flagged offline records received between two China calendar days (inclusive), oldest first.
    public func offlineConflicts(from: CalendarDate, to: CalendarDate, merchantID: Int64? = nil) throws -> [OfflineConflict] {
        func bound(_ day: CalendarDate) -> String {
            Timestamp.iso(Date(timeIntervalSince1970: TimeInterval(day.daysSinceEpoch * 86_400 - CalendarDate.chinaOffsetSeconds)))
        }
        var sql = """
            SELECT v.id, v.merchant_id, coalesce(m.name, '?'), v.created_at, v.received_at, c.card_no, v.device_result, v.valid, v.reason, v.conflict
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.offline = 1 AND v.conflict IS NOT NULL AND v.received_at >= ? AND v.received_at < ?
            """
        var arguments: StatementArguments = [bound(from), bound(CalendarDate(daysSinceEpoch: to.daysSinceEpoch + 1))]
        if let merchantID {
            sql += " AND v.merchant_id = ?"
            arguments += [merchantID]
        }
        sql += " ORDER BY v.received_at, v.id"
        return try dbWriter.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                let valid: Bool = row[7]
                return OfflineConflict(
                    verificationId: row[0],
                    merchantId: row[1],
                    merchantName: row[2],
                    verifiedAt: row[3],
                    receivedAt: row[4] ?? "",
                    cardNo: row[5],
                    deviceResult: row[6] ?? "",
                    serverResult: valid ? "valid" : (row[8] ?? "invalid"),
                    conflict: row[9]
                )
            }
        }
    }
}
