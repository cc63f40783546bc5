import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    // MARK: Applications from the public page

    public func openBatchNumber() async throws -> Int64? {
        try await client.query("SELECT number FROM batches WHERE status = 'open' ORDER BY number DESC LIMIT 1", logger: logger)
            .collect().first?.decode(Int64.self)
    }

    /// The public form's one application, by the rules of `AppDatabase.importApplications`: a credit code still under
    /// review in another batch, or a current partner shop's, is refused; a second one in this batch is taken (the bureau
    /// decides which is real).
    public func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String {
        let code = application.creditCode.value
        let logger = logger
        return try await client.inTransaction(logger: logger) { connection in
            // Applications of one credit code are filed one at a time, so two instances cannot both pass the check.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.applicationLock), hashtext(\(code)))", logger: logger)
            let open = try await connection.query("SELECT status FROM batches WHERE number = \(number) FOR SHARE", logger: logger)
                .collect().first?.decode(String.self)
            guard open == "open" else { throw RegisterError("batch \(number) is closed; open a new batch with `yongjun batches open`") }
            var problems: [ImportProblem] = []
            let latest = try await connection.query(
                "SELECT batch_number, stage, id FROM applications WHERE credit_code = \(code) ORDER BY id DESC LIMIT 1",
                logger: logger
            ).collect().first
            if let latest {
                let (batch, stage, id) = try latest.decode((Int64, String, Int64).self)
                if batch != number, ReviewStage(rawValue: stage)?.isUnderReview ?? false {
                    problems.append(
                        ImportProblem(
                            line: application.line,
                            reason: "credit_code \(code) is still under review in batch \(batch) (application \(id))"
                        )
                    )
                }
            }
            let partner = try await connection.query(
                "SELECT id, name FROM merchants WHERE credit_code = \(code) AND status != 'revoked' LIMIT 1",
                logger: logger
            ).collect().first
            if let partner {
                let (id, name) = try partner.decode((Int64, String).self)
                problems.append(ImportProblem(line: application.line, reason: "credit_code \(code) is already partner shop \(id) (\(name))"))
            }
            guard problems.isEmpty else { throw ImportConflicts(problems: problems) }
            let stamp = Timestamp.iso(now)
            let id =
                try await connection.query(
                    """
                    INSERT INTO applications (batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage, created_at, updated_at)
                    VALUES (\(number), \(application.shopName), \(code), \(application.industry.rawValue), \(application.address), \(application.contact),
                        \(application.phone), \(application.benefit), 'materials', \(stamp), \(stamp))
                    RETURNING id
                    """,
                    logger: logger
                ).collect().first?.decode(Int64.self) ?? 0
            try await connection.query(
                """
                INSERT INTO application_events (application_id, from_stage, to_stage, note, operator, at)
                VALUES (\(id), NULL, 'materials', '导入：网上申请', 'system', \(stamp))
                """,
                logger: logger
            )
            return "YJ-\(number)-\(id)"
        }
    }

    static let applicationLock: Int32 = 0x594A_4150  // "YJAP"

    // MARK: The status list

    public func statusListSource(today: CalendarDate) async throws -> StatusListSource {
        guard let totals = try await client.query("SELECT count(*), coalesce(max(status_idx), -1) FROM cards", logger: logger).collect().first
        else { return StatusListSource(entries: [], count: StatusIndexAllocator.capacity(cards: 0)) }
        let (cards, highest) = try totals.decode((Int64, Int64).self)
        var count = StatusIndexAllocator.capacity(cards: Int(cards))
        while count <= highest { count *= 2 }
        let rows = try await client.query(
            """
            SELECT status_idx, status FROM cards
            WHERE status_idx IS NOT NULL AND (status = 'revoked' OR valid_until < \(today.description))
            """,
            logger: logger
        )
        var entries: [(index: Int, value: StatusList.Value)] = []
        for try await row in rows {
            let (index, status) = try row.decode((Int64, String).self)
            entries.append((Int(index), status == "revoked" ? .revoked : .expired))
        }
        return StatusListSource(entries: entries, count: count)
    }

    public func setServiceState(_ name: String, _ value: String) async throws {
        try await client.query(
            "INSERT INTO service_state (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            logger: logger
        ).collect()
    }

    public func auditedSigningKeyIDs() async throws -> Set<String> {
        Set(
            try await client.query("SELECT subject FROM audit_log WHERE action IN ('keys.init', 'keys.rotate')", logger: logger)
                .collect().map { try $0.decode(String.self) }
        )
    }
}
