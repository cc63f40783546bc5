import Foundation
import YongjunCore

extension VerificationReport {
    /// Verifications of one shop, card category, China-time month and result, as either store groups them: the
    /// only thing a store computes for the report. Everything counted from them is `init(from:to:merchantID:groups:)`.
    public struct Group: Sendable, Equatable {
        public var merchantID: Int64
        public var merchantName: String?
        public var category: String?
        /// YYYY-MM of the verification's time in China.
        public var month: String?
        public var valid: Bool
        public var reason: String?
        public var count: Int
        /// Of `count`, how many came from offline uploads, and how many of those the register disagrees with.
        public var offline: Int
        public var flagged: Int

        public init(
            merchantID: Int64,
            merchantName: String?,
            category: String?,
            month: String?,
            valid: Bool,
            reason: String?,
            count: Int,
            offline: Int,
            flagged: Int
        ) {
            self.merchantID = merchantID
            self.merchantName = merchantName
            self.category = category
            self.month = month
            self.valid = valid
            self.reason = reason
            self.count = count
            self.offline = offline
            self.flagged = flagged
        }
    }

    /// The verification ids recorded from China-time midnight starting `from` to the one ending `to`: record ids
    /// start with their time (ULID), so the day range is an id range on the primary key, `lower ..< upper`.
    public static func idRange(from: CalendarDate, to: CalendarDate) -> (lower: String, upper: String) {
        func bound(_ day: CalendarDate) -> String {
            RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, day.daysSinceEpoch * 86_400 - CalendarDate.chinaOffsetSeconds)) * 1000)
        }
        return (bound(from), bound(CalendarDate(daysSinceEpoch: to.daysSinceEpoch + 1)))
    }

    /// The report counted from a store's groups: totals, then tallies by result, shop, card category and month.
    public init(from: CalendarDate, to: CalendarDate, merchantID: Int64?, groups: [Group]) {
        self.init(from: from.description, to: to.description, merchantId: merchantID)
        var reasons: [String: VerificationTally] = [:]
        var merchants: [String: VerificationTally] = [:]
        var categories: [String: VerificationTally] = [:]
        var months: [String: VerificationTally] = [:]
        for group in groups {
            let reason = group.reason ?? "valid"
            func add(_ table: inout [String: VerificationTally], _ key: String, _ label: String) {
                var tally = table[key] ?? VerificationTally(key: key, label: label)
                tally.total += group.count
                if group.valid { tally.valid += group.count } else { tally.rejected += group.count }
                table[key] = tally
            }
            total += group.count
            offline += group.offline
            flagged += group.flagged
            if group.valid { valid += group.count } else { rejected += group.count }
            add(&reasons, reason, VerificationReason(rawValue: reason)?.message ?? "有效")
            add(&merchants, String(group.merchantID), group.merchantName ?? "?")
            add(&categories, group.category ?? "unknown", group.category.flatMap(CardCategory.init(rawValue:))?.label ?? "无法识别")
            add(&months, group.month ?? "?", group.month ?? "?")
        }
        byReason = reasons.values.sorted { ($0.total, $1.key) > ($1.total, $0.key) }
        byMerchant = merchants.values.sorted { (Int64($0.key) ?? 0) < (Int64($1.key) ?? 0) }
        byCategory = categories.values.sorted { ($0.total, $1.key) > ($1.total, $0.key) }
        byMonth = months.values.sorted { $0.key < $1.key }
    }
}

extension OfflineConflict {
    /// The `received_at` range of records that reached the server from China-time midnight starting `from` to the
    /// one ending `to` (timestamps are ISO-8601 UTC text, so text order is time order), `lower ..< upper`.
    public static func receivedRange(from: CalendarDate, to: CalendarDate) -> (lower: String, upper: String) {
        func bound(_ day: CalendarDate) -> String {
            Timestamp.iso(Date(timeIntervalSince1970: TimeInterval(day.daysSinceEpoch * 86_400 - CalendarDate.chinaOffsetSeconds)))
        }
        return (bound(from), bound(CalendarDate(daysSinceEpoch: to.daysSinceEpoch + 1)))
    }

    /// A flagged record as a store reads it; what the server decided is `valid`, else the reason it gave.
    public init(
        verificationId: String,
        merchantId: Int64,
        merchantName: String,
        verifiedAt: String,
        receivedAt: String?,
        cardNo: String?,
        deviceResult: String?,
        valid: Bool,
        reason: String?,
        conflict: String
    ) {
        self.init(
            verificationId: verificationId,
            merchantId: merchantId,
            merchantName: merchantName,
            verifiedAt: verifiedAt,
            receivedAt: receivedAt ?? "",
            cardNo: cardNo,
            deviceResult: deviceResult ?? "",
            serverResult: valid ? "valid" : (reason ?? "invalid"),
            conflict: conflict
        )
    }
}
