import Foundation
import YongjunCore

/// The bureau's reports (`yongjun reports …`, the year report), read from either store. Part of `AdminStore`.
///
/// A store only groups rows (China-time days and months are the one thing its SQL works out); what is counted
/// and how is the shared code that builds each report (`VerificationReport(from:to:merchantID:groups:)`,
/// `YearReport.cards(…)` and the like), so both stores give the same figures.
public protocol ReportsStore: Sendable {
    /// Verifications between two China calendar days (inclusive), counted by shop, card category, month and result.
    func verificationReport(from: CalendarDate, to: CalendarDate, merchantID: Int64?) async throws -> VerificationReport
    /// Flagged offline records received between two China calendar days (inclusive), oldest first.
    func offlineConflicts(from: CalendarDate, to: CalendarDate, merchantID: Int64?) async throws -> [OfflineConflict]
    /// The figures for `year`; `today` (China time) bounds "active" while the year is still running.
    func yearReport(year: Int, today: CalendarDate) async throws -> YearReport
}
