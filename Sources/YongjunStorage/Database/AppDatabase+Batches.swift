import Foundation
import GRDB
import YongjunCore

/// A batch with its live counts: how many applications stand at each stage, and where rejections happened.
public struct BatchSummary: Sendable, Codable, Equatable {
    public var number: Int64
    public var status: String
    public var openedOn: String
    public var closedOn: String?
    public var meetingDate: String?
    public var applied: Int
    public var approved: Int
    public var rejected: Int
    /// Applications currently at each review stage (materials … discussion, approved, rejected).
    public var stages: [String: Int]
    /// Rejections by the stage they happened at.
    public var rejectedAt: [String: Int]
}

extension AppDatabase {
    /// Opens a new batch; only one batch takes applications at a time.
    public func openBatch(today: CalendarDate, now: Date, audit: AuditContext? = nil) throws -> Batch {
        try write(audit: audit, now: now, AuditNote(action: "batches.open")) { db, note in
            if let open = try Batch.filter(Column("status") == "open").fetchOne(db) { throw BatchRules.stillOpen(open.number ?? 0) }
            var batch = BatchRules.opened(today: today)
            try batch.insert(db)
            note.subject = "batch \(batch.number ?? 0)"
            return batch
        }
    }

    /// Stops a batch taking applications; reviews and the meeting can still go on.
    public func closeBatch(_ number: Int64, today: CalendarDate, now: Date, audit: AuditContext? = nil) throws -> Batch {
        try write(audit: audit, now: now, AuditNote(action: "batches.close", subject: "batch \(number)")) { db, _ in
            let batch = try BatchRules.closed(try Self.batch(number, db), today: today)
            try batch.update(db)
            return batch
        }
    }

    static func batch(_ number: Int64, _ db: Database) throws -> Batch {
        guard let batch = try Batch.fetchOne(db, key: number) else { throw BatchRules.notFound(number) }
        return batch
    }

    /// Every batch with its counts, oldest first.
    public func batchSummaries() throws -> [BatchSummary] {
        try dbWriter.read { db in try Batch.order(Column("number")).fetchAll(db).map { try Self.summary(of: $0, db) } }
    }

    public func batchSummary(_ number: Int64) throws -> BatchSummary {
        try dbWriter.read { db in try Self.summary(of: try Self.batch(number, db), db) }
    }

    static func summary(of batch: Batch, _ db: Database) throws -> BatchSummary {
        let number = batch.number ?? 0
        let stages = try Row.fetchAll(db, sql: "SELECT stage, COUNT(*) FROM applications WHERE batch_number = ? GROUP BY stage", arguments: [number])
        let rejected = try Row.fetchAll(
            db,
            sql: "SELECT rejected_at_stage, COUNT(*) FROM applications WHERE batch_number = ? AND stage = 'rejected' GROUP BY 1",
            arguments: [number]
        )
        return BatchRules.summary(
            of: batch,
            stageCounts: stages.map { ($0[0] as String, $0[1] as Int) },
            rejectedCounts: rejected.map { ($0[0] as String?, $0[1] as Int) }
        )
    }
}
