import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// Applications on PostgreSQL, by the rules both stores share (`ApplicationRules`, `ApplicationReview`); batches and
/// the meeting are in PostgresStore+ReviewBatches.
extension PostgresStore: ReviewStore {
    /// The public form's one application: the same filing as `applications import`, unaudited, from "网上申请".
    public func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String {
        try await importApplications([application], batch: number, now: now, audit: nil, source: "网上申请").first?.reference ?? ""
    }

    public func importApplications(
        _ applications: [ImportedApplication],
        batch number: Int64,
        now: Date,
        audit: AuditContext?,
        source: String
    ) async throws -> [Application] {
        let logger = logger
        let operatorName = audit?.operatorName ?? "system"
        let note = ApplicationRules.importNote(batch: number, count: applications.count, source: source)
        return try await audited(audit, now: now, note) { connection, _ in
            try await Self.lockApplications(connection, logger: logger)
            let status = try await connection.query("SELECT status FROM batches WHERE number = \(number) FOR SHARE", logger: logger)
                .collect().first?.decode(String.self)
            guard let status else { throw BatchRules.notFound(number) }
            try ApplicationRules.checkTakesApplications(number, status: Batch.Status(rawValue: status) ?? .closed)
            let codes = Array(Set(applications.map(\.creditCode.value)))
            var latest: [String: FiledApplication] = [:]
            let filed = try await connection.query(
                "SELECT credit_code, batch_number, stage, id FROM applications WHERE credit_code = ANY(\(codes)) ORDER BY id",
                logger: logger
            )
            for try await (code, batch, stage, id) in filed.decode((String, Int64, String, Int64).self) {
                latest[code] = FiledApplication(batch: batch, stage: ReviewStage(rawValue: stage) ?? .materials, id: id)
            }
            var partners: [String: (id: Int64, name: String)] = [:]
            let shops = try await connection.query(
                "SELECT credit_code, id, name FROM merchants WHERE credit_code = ANY(\(codes)) AND status != 'revoked' ORDER BY id",
                logger: logger
            )
            for try await (code, id, name) in shops.decode((String, Int64, String).self) { partners[code] = (id, name) }
            let problems = ApplicationRules.importProblems(applications, batch: number, latest: latest, partners: partners)
            guard problems.isEmpty else { throw ImportConflicts(problems: problems) }
            guard !applications.isEmpty else { return [] }

            // Ids taken first, in order, so the rows go in with one statement however many there are.
            let ids = try await connection.query(
                "SELECT nextval(pg_get_serial_sequence('applications', 'id')) FROM generate_series(1, \(applications.count))",
                logger: logger
            ).collect().map { try $0.decode(Int64.self) }.sorted()
            let stamp = Timestamp.iso(now)
            try await connection.query(
                """
                INSERT INTO applications (id, batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage, created_at, updated_at)
                SELECT id, \(number), shop_name, credit_code, industry, address, contact, phone, benefit, 'materials', \(stamp), \(stamp)
                FROM unnest(\(ids)::bigint[], \(applications.map(\.shopName))::text[], \(applications.map(\.creditCode.value))::text[],
                    \(applications.map(\.industry.rawValue))::text[], \(applications.map(\.address))::text[], \(applications.map(\.contact))::text[],
                    \(applications.map(\.phone))::text[], \(applications.map(\.benefit))::text[])
                    AS rows (id, shop_name, credit_code, industry, address, contact, phone, benefit)
                ORDER BY id
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO application_events (application_id, from_stage, to_stage, note, operator, at)
                SELECT id, NULL, 'materials', \(ApplicationRules.importEventNote(source: source)), \(operatorName), \(stamp)
                FROM unnest(\(ids)::bigint[]) AS rows (id) ORDER BY id
                """,
                logger: logger
            )
            return zip(applications, ids).map { ApplicationRules.filed($0, id: $1, batch: number, stamp: stamp) }
        }
    }

    /// Applications are filed, and approved, one transaction at a time (the public form on every instance, imports,
    /// the meeting), so two cannot both pass the credit-code checks. Reads go on meanwhile.
    static func lockApplications(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("LOCK TABLE applications IN SHARE ROW EXCLUSIVE MODE", logger: logger)
    }

    public func applications(batch: Int64?, stage: ReviewStage?, industry: Industry?) async throws -> [Application] {
        try await client.query(
            """
            SELECT row_to_json(applications)::text FROM applications
            WHERE (\(batch)::bigint IS NULL OR batch_number = \(batch)) AND (\(stage?.rawValue)::text IS NULL OR stage = \(stage?.rawValue))
                AND (\(industry?.rawValue)::text IS NULL OR industry = \(industry?.rawValue))
            ORDER BY id
            """,
            logger: logger
        ).collect().map { try Self.decodeRecord(Application.self, $0) }
    }

    public func applicationHistory(_ id: Int64) async throws -> ApplicationHistory {
        let logger = logger
        return try await client.withConnection { connection in
            let application = try await Self.application(id, connection, lock: false, logger: logger)
            let events = try await connection.query(
                "SELECT row_to_json(application_events)::text FROM application_events WHERE application_id = \(id) ORDER BY id",
                logger: logger
            ).collect().map { try Self.decodeRecord(ApplicationEvent.self, $0) }
            return ApplicationHistory(application: application, events: events)
        }
    }

    public func applicationReviews(_ applications: [Application]) async throws -> [Int64: ApplicationReview] {
        guard !applications.isEmpty else { return [:] }
        let codes = Array(Set(applications.map(\.creditCode)))
        let filed = try await client.query(
            "SELECT id, batch_number, credit_code, phone FROM applications WHERE credit_code = ANY(\(codes)) ORDER BY id",
            logger: logger
        ).collect().map { row in
            let (id, batch, code, phone) = try row.decode((Int64, Int64, String, String).self)
            return ApplicationReview.Filed(id: id, batch: batch, creditCode: code, phone: phone)
        }
        let phones = try await client.query(
            "SELECT credit_code, id, phone FROM merchants WHERE credit_code = ANY(\(codes)) AND phone IS NOT NULL AND phone != '' ORDER BY id",
            logger: logger
        ).collect().map { row in
            let (code, id, phone) = try row.decode((String, Int64, String).self)
            return (creditCode: code, id: id, phone: phone)
        }
        return ApplicationReview.reviews(for: applications, filed: filed, merchantPhones: phones)
    }

    public func advanceApplication(_ id: Int64, note: String?, now: Date, audit: AuditContext?) async throws -> Application {
        let logger = logger
        return try await audited(audit, now: now, ApplicationRules.advanceNote(id)) { connection, auditNote in
            let application = try await Self.application(id, connection, lock: true, logger: logger)
            let next = try ApplicationRules.nextStage(of: application)
            auditNote.details = ApplicationRules.advanceDetails(from: application.stage, to: next, note: note)
            let move = ApplicationRules.moved(application, to: next, note: note, operatorName: audit?.operatorName ?? "system", now: now)
            return try await Self.save(move, connection, logger: logger)
        }
    }

    public func rejectApplication(
        _ id: Int64,
        atStage expected: ReviewStage?,
        reason: String,
        now: Date,
        audit: AuditContext?
    ) async throws -> Application {
        let logger = logger
        return try await audited(audit, now: now, ApplicationRules.rejectNote(id)) { connection, auditNote in
            let application = try await Self.application(id, connection, lock: true, logger: logger)
            try ApplicationRules.checkRejectable(application, expected: expected)
            auditNote.details = ApplicationRules.rejectDetails(at: application.stage, reason: reason)
            let move = ApplicationRules.rejected(application, reason: reason, operatorName: audit?.operatorName ?? "system", now: now)
            return try await Self.save(move, connection, logger: logger)
        }
    }

    static func application(_ id: Int64, _ connection: PostgresConnection, lock: Bool, logger: Logger) async throws -> Application {
        let query: PostgresQuery =
            lock
            ? "SELECT row_to_json(applications)::text FROM applications WHERE id = \(id) FOR UPDATE"
            : "SELECT row_to_json(applications)::text FROM applications WHERE id = \(id)"
        guard let row = try await connection.query(query, logger: logger).collect().first else { throw ApplicationRules.notFound(id) }
        return try decodeRecord(Application.self, row)
    }

    /// Stores a moved application and the history step that records the move.
    static func save(_ move: (Application, ApplicationEvent), _ connection: PostgresConnection, logger: Logger) async throws -> Application {
        let (application, event) = move
        try await connection.query(
            """
            UPDATE applications SET stage = \(application.stage.rawValue), rejected_at_stage = \(application.rejectedAtStage?.rawValue),
                reject_reason = \(application.rejectReason), merchant_id = \(application.merchantId), updated_at = \(application.updatedAt)
            WHERE id = \(application.id ?? 0)
            """,
            logger: logger
        )
        try await connection.query(
            """
            INSERT INTO application_events (application_id, from_stage, to_stage, note, operator, at)
            VALUES (\(event.applicationId), \(event.fromStage?.rawValue), \(event.toStage.rawValue), \(event.note), \(event.operator), \(event.at))
            """,
            logger: logger
        )
        return application
    }
}
