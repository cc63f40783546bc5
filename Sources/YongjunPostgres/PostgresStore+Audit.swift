import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    /// The audit log and the register state it must explain, as `AppDatabase.verifyAudit` reads them from SQLite.
    static func auditRows(_ connection: PostgresConnection, logger: Logger) async throws -> ([AuditEntry], AuditStateRows) {
        let entries = try await auditEntries(connection, logger: logger)
        var state = AuditStateRows(merchants: [], cards: [], applications: [])
        for try await row in try await connection.query("SELECT id, status, application_id FROM merchants ORDER BY id", logger: logger).decode(
            (Int64, String, Int64?).self
        ) {
            state.merchants.append(row)
        }
        // COLLATE "C": the order SQLite gives, whatever the database's collation.
        for try await row in try await connection.query("SELECT card_no, status FROM cards ORDER BY card_no COLLATE \"C\"", logger: logger).decode(
            (String, String).self
        ) {
            state.cards.append(row)
        }
        for try await row in try await connection.query("SELECT id, stage FROM applications ORDER BY id", logger: logger).decode((Int64, String).self)
        {
            state.applications.append(row)
        }
        return (entries, state)
    }

    /// `yongjun audit verify` on PostgreSQL: the same checks, on one consistent snapshot of the database.
    public func verifyAudit(_ audit: AuditContext, keyIDs: [String]) async throws -> AuditVerification {
        // The head is read first: commits only add entries, so one that lands meanwhile cannot look like a cut.
        let seal = audit.seal
        let logger = logger
        let (entries, state) = try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            return try await Self.auditRows(connection, logger: logger)
        }
        return AuditVerification(entries: entries, rows: state, chain: audit.chain, seal: seal, keyIDs: keyIDs)
    }
}
