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
        let range = VerificationReport.idRange(from: from, to: to)
        var sql = """
            SELECT v.merchant_id, m.name, c.category, strftime('%Y-%m', v.created_at, '+8 hours'), v.valid, v.reason, COUNT(*),
                SUM(v.offline), SUM(v.conflict IS NOT NULL)
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.id >= ? AND v.id < ?
            """
        var arguments: StatementArguments = [range.lower, range.upper]
        if let merchantID {
            sql += " AND v.merchant_id = ?"
            arguments += [merchantID]
        }
        sql += " GROUP BY 1, 2, 3, 4, 5, 6"
        let groups = try dbWriter.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                VerificationReport.Group(
                    merchantID: row[0],
                    merchantName: row[1],
                    category: row[2],
                    month: row[3],
                    valid: row[4],
                    reason: row[5],
                    count: row[6],
                    offline: row[7] ?? 0,
                    flagged: row[8] ?? 0
                )
            }
        }
        return VerificationReport(from: from, to: to, merchantID: merchantID, groups: groups)
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
        let range = OfflineConflict.receivedRange(from: from, to: to)
        var sql = """
            SELECT v.id, v.merchant_id, coalesce(m.name, '?'), v.created_at, v.received_at, c.card_no, v.device_result, v.valid, v.reason, v.conflict
            FROM verifications v
            LEFT JOIN merchants m ON m.id = v.merchant_id
            LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.offline = 1 AND v.conflict IS NOT NULL AND v.received_at >= ? AND v.received_at < ?
            """
        var arguments: StatementArguments = [range.lower, range.upper]
        if let merchantID {
            sql += " AND v.merchant_id = ?"
            arguments += [merchantID]
        }
        sql += " ORDER BY v.received_at, v.id"
        return try dbWriter.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                OfflineConflict(
                    verificationId: row[0],
                    merchantId: row[1],
                    merchantName: row[2],
                    verifiedAt: row[3],
                    receivedAt: row[4],
                    cardNo: row[5],
                    deviceResult: row[6],
                    valid: row[7],
                    reason: row[8],
                    conflict: row[9]
                )
            }
        }
    }
}
