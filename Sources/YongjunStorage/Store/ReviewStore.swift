import Foundation
import YongjunCore

/// Shops' applications and the bureau's review batches (`yongjun applications …`, `yongjun batches …`), on either
/// store. Part of `AdminStore`. The rules live in `ApplicationRules`, `BatchRules` and `ApplicationReview`; each store
/// only reads and writes its rows.
public protocol ReviewStore: Sendable {
    // MARK: Applications

    /// Adds applications to an open batch at the first stage, all or none (with its audit entry); throws
    /// `ImportConflicts` when a credit code is a partner shop's or still under review in another batch.
    func importApplications(
        _ applications: [ImportedApplication],
        batch number: Int64,
        now: Date,
        audit: AuditContext?,
        source: String
    ) async throws -> [Application]
    /// Applications matching every filter given, by id.
    func applications(batch: Int64?, stage: ReviewStage?, industry: Industry?) async throws -> [Application]
    /// An application and every step it went through.
    func applicationHistory(_ id: Int64) async throws -> ApplicationHistory
    /// Reviews for `applications` (same credit code in the batch, phone check), keyed by application id.
    func applicationReviews(_ applications: [Application]) async throws -> [Int64: ApplicationReview]
    /// Moves an application to the next review stage; stages cannot be skipped, and approval is the meeting's.
    func advanceApplication(_ id: Int64, note: String?, now: Date, audit: AuditContext?) async throws -> Application
    /// Turns an application down at its current stage (`expected`, when given, must be it), with a reason.
    func rejectApplication(_ id: Int64, atStage expected: ReviewStage?, reason: String, now: Date, audit: AuditContext?) async throws -> Application

    // MARK: Batches

    /// Opens a new batch; only one batch takes applications at a time.
    func openBatch(today: CalendarDate, now: Date, audit: AuditContext?) async throws -> Batch
    /// Stops a batch taking applications; reviews and the meeting can still go on.
    func closeBatch(_ number: Int64, today: CalendarDate, now: Date, audit: AuditContext?) async throws -> Batch
    /// Every batch with its counts, oldest first.
    func batchSummaries() async throws -> [BatchSummary]
    func batchSummary(_ number: Int64) async throws -> BatchSummary
    /// 开会通过: the batch's applications at discussion (or only `only`) become active partner shops, in one
    /// audited transaction, and the meeting date is recorded on the batch.
    func approveBatch(
        _ number: Int64,
        meetingDate: CalendarDate,
        only: [Int64]?,
        now: Date,
        audit: AuditContext?
    ) async throws -> (merchants: [Merchant], summary: BatchSummary)
}
