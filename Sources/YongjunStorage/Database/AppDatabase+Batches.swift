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
            if let open = try Batch.filter(Column("status") == "open").fetchOne(db) {
                throw RegisterError("batch \(open.number ?? 0) is still open; close it with `yongjun batches close \(open.number ?? 0)` first")
            }
            var batch = Batch(number: nil, openedOn: today.description, closedOn: nil, meetingDate: nil, status: .open)
            try batch.insert(db)
            note.subject = "batch \(batch.number ?? 0)"
            return batch
        }
    }

    /// Stops a batch taking applications; reviews and the meeting can still go on.
    public func closeBatch(_ number: Int64, today: CalendarDate, now: Date, audit: AuditContext? = nil) throws -> Batch {
        try write(audit: audit, now: now, AuditNote(action: "batches.close", subject: "batch \(number)")) { db, _ in
            var batch = try Self.batch(number, db)
            guard batch.status == .open else { throw RegisterError("batch \(number) is already closed (on \(batch.closedOn ?? "?"))") }
            batch.status = .closed
            batch.closedOn = today.description
            try batch.update(db)
            return batch
        }
    }

    static func batch(_ number: Int64, _ db: Database) throws -> Batch {
        guard let batch = try Batch.fetchOne(db, key: number) else {
            throw RegisterError("no batch \(number); `yongjun batches list` shows the batches")
        }
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
        let groups = try Row.fetchAll(
            db,
            sql: "SELECT stage, rejected_at_stage, COUNT(*) FROM applications WHERE batch_number = ? GROUP BY 1, 2",
            arguments: [batch.number ?? 0]
        ).map { BatchSummary.StageGroup(stage: $0[0], rejectedAtStage: $0[1], count: $0[2]) }
        return BatchSummary(batch: batch, groups: groups)
    }
}
