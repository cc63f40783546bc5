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

    package init(application: Application, events: [ApplicationEvent]) {
        self.application = application
        self.events = events
    }
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
        let note = ApplicationRules.importNote(batch: number, count: applications.count, source: source)
        return try write(audit: audit, now: now, note) { db, _ in
            try ApplicationRules.checkTakesApplications(number, status: try Self.batch(number, db).status)
            // One pass over what the register holds, instead of two queries per row: imports reach 10^5 rows.
            var latest: [String: FiledApplication] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT credit_code, batch_number, stage, id FROM applications ORDER BY id") {
                latest[row[0]] = FiledApplication(batch: row[1], stage: ReviewStage(rawValue: row[2]) ?? .materials, id: row[3])
            }
            var partners: [String: (id: Int64, name: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT credit_code, id, name FROM merchants WHERE credit_code IS NOT NULL AND status != 'revoked'")
            {
                partners[row[0]] = (row[1], row[2])
            }
            let problems = ApplicationRules.importProblems(applications, batch: number, latest: latest, partners: partners)
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
                try insertEvent.execute(arguments: [id, ApplicationRules.importEventNote(source: source), operatorName, stamp])
                return ApplicationRules.filed(imported, id: id, batch: number, stamp: stamp)
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
        guard let application = try Application.fetchOne(db, key: id) else { throw ApplicationRules.notFound(id) }
        return application
    }

    /// Moves an application to the next review stage; stages cannot be skipped, and approval is the meeting's.
    public func advanceApplication(_ id: Int64, note: String?, now: Date, audit: AuditContext? = nil) throws -> Application {
        try write(audit: audit, now: now, ApplicationRules.advanceNote(id)) { db, auditNote in
            let application = try Self.application(id, db)
            let next = try ApplicationRules.nextStage(of: application)
            auditNote.details = ApplicationRules.advanceDetails(from: application.stage, to: next, note: note)
            let operatorName = audit?.operatorName ?? "system"
            return try Self.save(ApplicationRules.moved(application, to: next, note: note, operatorName: operatorName, now: now), db)
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
        try write(audit: audit, now: now, ApplicationRules.rejectNote(id)) { db, auditNote in
            let application = try Self.application(id, db)
            try ApplicationRules.checkRejectable(application, expected: expected)
            auditNote.details = ApplicationRules.rejectDetails(at: application.stage, reason: reason)
            return try Self.save(ApplicationRules.rejected(application, reason: reason, operatorName: audit?.operatorName ?? "system", now: now), db)
        }
    }

    /// Stores a moved application and the history step that records the move.
    static func save(_ move: (Application, ApplicationEvent), _ db: Database) throws -> Application {
        var (application, event) = move
        try application.update(db)
        try event.insert(db)
        return application
    }
}
