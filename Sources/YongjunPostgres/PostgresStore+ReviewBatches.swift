import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// Batches and the meeting's approval on PostgreSQL, by the rules both stores share (`BatchRules`).
extension PostgresStore {
    public func openBatch(today: CalendarDate, now: Date, audit: AuditContext?) async throws -> Batch {
        let logger = logger
        return try await audited(audit, now: now, AuditNote(action: "batches.open")) { connection, note in
            // Two admins opening at once: the second waits, then finds the first one's batch open.
            try await connection.query("LOCK TABLE batches IN SHARE ROW EXCLUSIVE MODE", logger: logger)
            let open = try await connection.query("SELECT number FROM batches WHERE status = 'open' ORDER BY number LIMIT 1", logger: logger)
                .collect().first?.decode(Int64.self)
            if let open { throw BatchRules.stillOpen(open) }
            var batch = BatchRules.opened(today: today)
            batch.number = try await connection.query(
                """
                INSERT INTO batches (opened_on, closed_on, meeting_date, status)
                VALUES (\(batch.openedOn), \(batch.closedOn), \(batch.meetingDate), \(batch.status.rawValue)) RETURNING number
                """,
                logger: logger
            ).collect().first?.decode(Int64.self)
            note.subject = "batch \(batch.number ?? 0)"
            return batch
        }
    }

    public func closeBatch(_ number: Int64, today: CalendarDate, now: Date, audit: AuditContext?) async throws -> Batch {
        let logger = logger
        return try await audited(audit, now: now, AuditNote(action: "batches.close", subject: "batch \(number)")) { connection, _ in
            let batch = try BatchRules.closed(try await Self.batch(number, connection, logger: logger), today: today)
            try await connection.query(
                "UPDATE batches SET status = \(batch.status.rawValue), closed_on = \(batch.closedOn) WHERE number = \(number)",
                logger: logger
            )
            return batch
        }
    }

    public func batchSummaries() async throws -> [BatchSummary] {
        let logger = logger
        return try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            var summaries: [BatchSummary] = []
            let batches = try await connection.query("SELECT row_to_json(batches)::text FROM batches ORDER BY number", logger: logger).collect()
            for row in batches {
                summaries.append(try await Self.summary(of: try Self.decodeRecord(Batch.self, row), connection, logger: logger))
            }
            return summaries
        }
    }

    public func batchSummary(_ number: Int64) async throws -> BatchSummary {
        let logger = logger
        return try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await Self.summary(of: try await Self.batch(number, connection, lock: false, logger: logger), connection, logger: logger)
        }
    }

    public func approveBatch(
        _ number: Int64,
        meetingDate: CalendarDate,
        only: [Int64]?,
        now: Date,
        audit: AuditContext?
    ) async throws -> (merchants: [Merchant], summary: BatchSummary) {
        let logger = logger
        let operatorName = audit?.operatorName ?? "system"
        let (merchants, summary) = try await audited(audit, now: now, BatchRules.approveNote(number, meetingDate: meetingDate)) {
            connection,
            auditNote in
            // Applications first, then the batch: the order every filing takes its locks in.
            try await Self.lockApplications(connection, logger: logger)
            var batch = try await Self.batch(number, connection, logger: logger)
            try BatchRules.checkNotApproved(batch)
            let atDiscussion = try await connection.query(
                "SELECT row_to_json(applications)::text FROM applications WHERE batch_number = \(number) AND stage = 'discussion' ORDER BY id",
                logger: logger
            ).collect().map { try Self.decodeRecord(Application.self, $0) }
            if let stray = BatchRules.firstStray(only, candidates: atDiscussion) {
                let found = try? await Self.application(stray, connection, lock: false, logger: logger)
                throw BatchRules.stray(stray, found: found, batch: number)
            }
            var merchants: [Merchant] = []
            for var application in try BatchRules.approved(atDiscussion, only: only, batch: number) {
                var merchant = BatchRules.merchant(from: application, batch: number, now: now)
                merchant.id = try await Self.insertApproved(merchant, connection, logger: logger)
                application.merchantId = merchant.id
                let move = ApplicationRules.moved(
                    application,
                    to: .approved,
                    note: BatchRules.approvalEventNote(meetingDate),
                    operatorName: operatorName,
                    now: now
                )
                _ = try await Self.save(move, connection, logger: logger)
                merchants.append(merchant)
            }
            batch.meetingDate = meetingDate.description
            try await connection.query("UPDATE batches SET meeting_date = \(batch.meetingDate) WHERE number = \(number)", logger: logger)
            BatchRules.recordApproval(merchants, in: &auditNote)
            return (merchants, try await Self.summary(of: batch, connection, logger: logger))
        }
        return (merchants, summary)
    }

    /// Inserts an approved shop with its starting benefit rule; returns its id.
    static func insertApproved(_ merchant: Merchant, _ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        let id =
            try await connection.query(
                """
                INSERT INTO merchants (name, industry, address, benefit, status, created_at, credit_code, contact, phone, batch_number, application_id)
                VALUES (\(merchant.name), \(merchant.industry.rawValue), \(merchant.address), \(merchant.benefit), \(merchant.status.rawValue),
                    \(merchant.createdAt), \(merchant.creditCode), \(merchant.contact), \(merchant.phone), \(merchant.batchNumber), \(merchant.applicationId))
                RETURNING id
                """,
                logger: logger
            ).collect().first?.decode(Int64.self) ?? 0
        if let rule = BenefitRule.starting(benefit: merchant.benefit) {
            try await connection.query(
                """
                INSERT INTO benefit_rules (merchant_id, position, categories, benefit, once_per_day)
                VALUES (\(id), 0, NULL, \(rule.benefit), \(rule.oncePerDay ? Int64(1) : Int64(0)))
                """,
                logger: logger
            )
        }
        return id
    }

    static func batch(_ number: Int64, _ connection: PostgresConnection, lock: Bool = true, logger: Logger) async throws -> Batch {
        let query: PostgresQuery =
            lock
            ? "SELECT row_to_json(batches)::text FROM batches WHERE number = \(number) FOR UPDATE"
            : "SELECT row_to_json(batches)::text FROM batches WHERE number = \(number)"
        guard let row = try await connection.query(query, logger: logger).collect().first else { throw BatchRules.notFound(number) }
        return try decodeRecord(Batch.self, row)
    }

    static func summary(of batch: Batch, _ connection: PostgresConnection, logger: Logger) async throws -> BatchSummary {
        let number = batch.number ?? 0
        let stages = try await connection.query(
            "SELECT stage, count(*) FROM applications WHERE batch_number = \(number) GROUP BY stage",
            logger: logger
        ).collect().map { row in
            let (stage, count) = try row.decode((String, Int64).self)
            return (stage, Int(count))
        }
        let rejected = try await connection.query(
            "SELECT rejected_at_stage, count(*) FROM applications WHERE batch_number = \(number) AND stage = 'rejected' GROUP BY 1",
            logger: logger
        ).collect().map { row in
            let (stage, count) = try row.decode((String?, Int64).self)
            return (stage, Int(count))
        }
        return BatchRules.summary(of: batch, stageCounts: stages, rejectedCounts: rejected)
    }
}
