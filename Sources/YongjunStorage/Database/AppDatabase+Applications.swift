import Foundation
import GRDB
import YongjunCore

/// An import refused because rows clash with what the register already holds; nothing was written.
public struct ImportConflicts: UserFacingError, Sendable {
    public let problems: [ImportProblem]

    package init(problems: [ImportProblem]) {
        self.problems = problems
    }

    public var description: String { "\(problems.count) row(s) conflict with the register; nothing was imported" }
}

/// An application and every step it went through.
public struct ApplicationHistory: Sendable {
    public let application: Application
    public let events: [ApplicationEvent]
}

extension AppDatabase {
    /// Adds applications to an open batch at the first stage, all or none.
    public func importApplications(
        _ applications: [ImportedApplication],
        batch number: Int64,
        now: Date,
        audit: AuditContext? = nil,
        source: String = ""
    ) throws -> [Application] {
        let operatorName = audit?.operatorName ?? "system"
        let note = AuditNote(action: "applications.import", subject: "batch \(number)", details: ["file": source, "rows": "\(applications.count)"])
        return try write(audit: audit, now: now, note) { db, _ in
            let batch = try Self.batch(number, db)
            guard batch.status == .open else {
                throw RegisterError("batch \(number) is closed; open a new batch with `yongjun batches open`")
            }
            // One pass over what the register holds, instead of two queries per row: imports reach 10^5 rows.
            var latest: [String: (batch: Int64, stage: ReviewStage, id: Int64)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT credit_code, batch_number, stage, id FROM applications ORDER BY id") {
                latest[row[0]] = (row[1], ReviewStage(rawValue: row[2]) ?? .materials, row[3])
            }
            var partners: [String: (id: Int64, name: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT credit_code, id, name FROM merchants WHERE credit_code IS NOT NULL AND status != 'revoked'")
            {
                partners[row[0]] = (row[1], row[2])
            }
            var problems: [ImportProblem] = []
            for imported in applications {
                let code = imported.creditCode.value
                // A second application with the same code in this batch is taken and flagged (`duplicate of #ID`):
                // a stranger may have applied first with a real shop's code, and the bureau decides which is real.
                if let existing = latest[code], existing.batch != number, existing.stage.isUnderReview {
                    problems.append(
                        ImportProblem(
                            line: imported.line,
                            reason: "credit_code \(code) is still under review in batch \(existing.batch) (application \(existing.id))"
                        )
                    )
                }
                if let merchant = partners[code] {
                    problems.append(
                        ImportProblem(line: imported.line, reason: "credit_code \(code) is already partner shop \(merchant.id) (\(merchant.name))")
                    )
                }
            }
            guard problems.isEmpty else { throw ImportConflicts(problems: problems) }
            let stamp = Timestamp.iso(now)
            let insertApplication = try db.cachedStatement(
                sql: """
                    INSERT INTO applications (batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'materials', ?, ?)
                    """
            )
            let insertEvent = try db.cachedStatement(
                sql:
                    "INSERT INTO application_events (application_id, from_stage, to_stage, note, operator, at) VALUES (?, NULL, 'materials', ?, ?, ?)"
            )
            return try applications.map { imported in
                try insertApplication.execute(arguments: [
                    number, imported.shopName, imported.creditCode.value, imported.industry.rawValue, imported.address, imported.contact,
                    imported.phone, imported.benefit, stamp, stamp,
                ])
                let id = db.lastInsertedRowID
                try insertEvent.execute(arguments: [id, "导入：\(source)", operatorName, stamp])
                return Application(
                    id: id,
                    batchNumber: number,
                    shopName: imported.shopName,
                    creditCode: imported.creditCode.value,
                    industry: imported.industry,
                    address: imported.address,
                    contact: imported.contact,
                    phone: imported.phone,
                    benefit: imported.benefit,
                    stage: .materials,
                    rejectedAtStage: nil,
                    rejectReason: nil,
                    merchantId: nil,
                    createdAt: stamp,
                    updatedAt: stamp
                )
            }
        }
    }

    /// Applications matching every filter given, by id.
    public func applications(batch: Int64? = nil, stage: ReviewStage? = nil, industry: Industry? = nil) throws -> [Application] {
        try dbWriter.read { db in
            var request = Application.order(Column("id"))
            if let batch { request = request.filter(Column("batch_number") == batch) }
            if let stage { request = request.filter(Column("stage") == stage.rawValue) }
            if let industry { request = request.filter(Column("industry") == industry.rawValue) }
            return try request.fetchAll(db)
        }
    }

    public func applicationHistory(_ id: Int64) throws -> ApplicationHistory {
        try dbWriter.read { db in
            ApplicationHistory(
                application: try Self.application(id, db),
                events: try ApplicationEvent.filter(Column("application_id") == id).order(Column("id")).fetchAll(db)
            )
        }
    }

    static func application(_ id: Int64, _ db: Database) throws -> Application {
        guard let application = try Application.fetchOne(db, key: id) else {
            throw RegisterError("no application \(id); `yongjun applications list --batch N` shows them")
        }
        return application
    }

    /// Moves an application to the next review stage; stages cannot be skipped, and approval is the meeting's.
    public func advanceApplication(_ id: Int64, note: String?, now: Date, audit: AuditContext? = nil) throws -> Application {
        try write(audit: audit, now: now, AuditNote(action: "applications.advance", subject: "application \(id)")) { db, auditNote in
            var application = try Self.application(id, db)
            guard let next = application.stage.next else {
                switch application.stage {
                case .discussion:
                    throw RegisterError(
                        "application \(id) is at discussion (讨论方案); it is approved at the meeting: `yongjun batches approve \(application.batchNumber) --meeting-date YYYY-MM-DD`"
                    )
                default:
                    throw RegisterError(
                        "application \(id) is \(application.stage.rawValue) (\(application.stage.label)); it is no longer under review"
                    )
                }
            }
            auditNote.details = ["from": application.stage.rawValue, "to": next.rawValue, "note": note ?? ""]
            try Self.move(&application, to: next, note: note, operatorName: audit?.operatorName ?? "system", now: now, db)
            return application
        }
    }

    /// Turns an application down at its current stage; the reason is kept and shown in its history.
    public func rejectApplication(
        _ id: Int64,
        atStage expected: ReviewStage?,
        reason: String,
        now: Date,
        audit: AuditContext? = nil
    ) throws -> Application {
        try write(audit: audit, now: now, AuditNote(action: "applications.reject", subject: "application \(id)")) { db, auditNote in
            var application = try Self.application(id, db)
            guard application.stage.isUnderReview else {
                throw RegisterError(
                    "application \(id) is \(application.stage.rawValue) (\(application.stage.label)); only applications under review can be rejected"
                )
            }
            if let expected, expected != application.stage {
                throw RegisterError(
                    "application \(id) is at \(application.stage.rawValue) (\(application.stage.label)), not \(expected.rawValue); check the id or give --stage \(application.stage.rawValue)"
                )
            }
            auditNote.details = ["stage": application.stage.rawValue, "reason": reason]
            application.rejectedAtStage = application.stage
            application.rejectReason = reason
            try Self.move(&application, to: .rejected, note: reason, operatorName: audit?.operatorName ?? "system", now: now, db)
            return application
        }
    }

    static func move(_ application: inout Application, to stage: ReviewStage, note: String?, operatorName: String, now: Date, _ db: Database) throws {
        var event = ApplicationEvent(
            id: nil,
            applicationId: application.id!,
            fromStage: application.stage,
            toStage: stage,
            note: note,
            operator: operatorName,
            at: Timestamp.iso(now)
        )
        application.stage = stage
        application.updatedAt = Timestamp.iso(now)
        try application.update(db)
        try event.insert(db)
    }
}
