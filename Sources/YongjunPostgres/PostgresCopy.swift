import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// Copies a Yongjun SQLite database into an empty PostgreSQL one (`yongjun store copy`): migrates the target, then
/// in ONE transaction loads every table in foreign-key order through COPY (chunks read from SQLite), moves each
/// identity past the ids SQLite handed out, and checks the result (rows per table, signing key ids, the audit chain
/// and state re-verified on the copied rows). Anything short of a full match rolls back: the target is then as empty
/// as before.
public struct PostgresCopy: Sendable {
    /// What the audit check needs from the source's data directory: its key, its sealed head and its key files.
    public let chain: AuditChain
    public let seal: AuditSeal
    public let keyFileIDs: [String]
    public let logger: Logger
    /// Rows read from SQLite and sent to PostgreSQL at a time.
    public var chunkRows = 2000

    public init(chain: AuditChain, seal: AuditSeal, keyFileIDs: [String], logger: Logger) {
        self.chain = chain
        self.seal = seal
        self.keyFileIDs = keyFileIDs
        self.logger = logger
    }

    /// Any number, the same in every Yongjun: two copies into one database wait for each other, and the second
    /// then finds the target holding rows.
    static let lockKey: Int64 = 0x596F_6E67_6A75_6E02

    /// Copies `source` into the database at `url`, with a client of its own for the copy.
    public func copy(from source: DatabaseExport, to url: PostgresURL) async throws -> StoreCopyReport {
        try await url.checkConnection(logger: logger)
        return try await PostgresClient.withRunning(url.configuration, logger: logger) { try await copy(from: source, to: $0) }
    }

    /// Copies `source` into the database behind `client`; the report says what was found, and `committed` whether
    /// the copy was kept. Throws when the target is not empty or does not have the expected schema.
    public func copy(from source: DatabaseExport, to client: PostgresClient) async throws -> StoreCopyReport {
        try await PostgresMigrator().migrate(client, logger: logger)
        let sourceKeys = try source.auditedSigningKeyIDs()
        do {
            var report = try await client.inTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                try await connection.query("SET CONSTRAINTS ALL DEFERRED", logger: logger)
                let types = try await targetColumnTypes(connection, for: source.tables)
                try await refuseNonEmpty(connection, source.tables)
                var counts: [StoreCopyReport.TableCount] = []
                for table in source.tables {
                    try await copyRows(of: table, from: source, to: connection, types: types[table.name] ?? [])
                    // Counted apart from the rows streamed, in the same snapshot: a chunk lost on the way shows.
                    counts.append(StoreCopyReport.TableCount(table: table.name, source: try source.count(table), target: 0))
                }
                try await resetIdentities(connection, sequences: try source.sequences())
                // Deferred foreign keys are checked now, before the counts are trusted.
                try await connection.query("SET CONSTRAINTS ALL IMMEDIATE", logger: logger)
                let report = try await check(connection, counts: counts, sourceKeys: sourceKeys)
                guard report.ok else { throw CopyRolledBack(report: report) }
                return report
            }
            report.committed = true
            return report
        } catch let rolledBack as CopyRolledBack {
            return rolledBack.report
        }
    }

    private struct CopyRolledBack: Error {
        var report: StoreCopyReport
    }

    /// Each copied table's PostgreSQL column types, in SQLite's column order; a table or column missing on either
    /// side is schema drift, refused before anything is written.
    private func targetColumnTypes(_ connection: PostgresConnection, for tables: [ExportTable]) async throws -> [String: [String]] {
        var target: [String: [(String, String)]] = [:]
        let rows = try await connection.query(
            """
            SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """,
            logger: logger
        )
        for try await (table, column, type) in rows.decode((String, String, String).self) { target[table, default: []].append((column, type)) }
        var types: [String: [String]] = [:]
        for table in tables {
            let columns = target[table.name] ?? []
            guard columns.map(\.0) == table.columns.map(\.name) else {
                throw PostgresStoreError(
                    "table \(table.name) differs between the SQLite database (\(table.columns.map(\.name).joined(separator: ", "))) and "
                        + "PostgreSQL (\(columns.isEmpty ? "missing" : columns.map(\.0).joined(separator: ", "))): "
                        + "both must be at this version's schema; nothing was copied"
                )
            }
            types[table.name] = columns.map(\.1)
        }
        return types
    }

    private func refuseNonEmpty(_ connection: PostgresConnection, _ tables: [ExportTable]) async throws {
        var holding: [String] = []
        for table in tables {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(quoted(table.name))"), logger: logger)
            for try await count in rows.decode(Int64.self) where count > 0 { holding.append("\(table.name): \(count)") }
        }
        guard holding.isEmpty else {
            throw PostgresStoreError(
                "the PostgreSQL database already holds rows (\(holding.joined(separator: ", "))); store copy only fills an empty "
                    + "database, so nothing was copied: create a new database (createdb) and copy into that"
            )
        }
    }

    /// Streams the table through `COPY … FROM STDIN` (text format) in chunks read from SQLite in key order.
    @discardableResult
    private func copyRows(of table: ExportTable, from source: DatabaseExport, to connection: PostgresConnection, types: [String]) async throws -> Int
    {
        let columns = table.columns.map(\.name)
        var copied = 0
        // copyFrom quotes the names itself; they are the schema's own, checked against PostgreSQL's columns above.
        try await connection.copyFrom(table: table.name, columns: columns, logger: logger) { writer in
            var position: ExportPosition?
            repeat {
                let (rows, next) = try source.rows(table, after: position, limit: chunkRows)
                position = next
                guard !rows.isEmpty else { break }
                var text = ""
                for (rowIndex, row) in rows.enumerated() {
                    for (columnIndex, cell) in row.enumerated() {
                        if columnIndex > 0 { text += "\t" }
                        try Self.appendCopyText(
                            cell,
                            as: types[columnIndex],
                            to: &text,
                            at: "\(table.name).\(columns[columnIndex]) row \(copied + rowIndex + 1)"
                        )
                    }
                    text += "\n"
                }
                try await writer.write(ByteBuffer(string: text))
                copied += rows.count
            } while position != nil
        }
        return copied
    }

    /// Moves each identity past the largest id present and the last one SQLite handed out (AUTOINCREMENT never
    /// reuses an id, even a deleted row's), so the next row PostgreSQL creates gets a new id.
    private func resetIdentities(_ connection: PostgresConnection, sequences: [String: Int64]) async throws {
        let identities = try await connection.query(
            """
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND is_identity = 'YES'
            """,
            logger: logger
        )
        var pairs: [(String, String)] = []
        for try await pair in identities.decode((String, String).self) { pairs.append(pair) }
        for (table, column) in pairs {
            var binds = PostgresBindings()
            binds.append(table)
            binds.append(column)
            binds.append(sequences[table] ?? 0)
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE(MAX(\(quoted(column))), 0), $3, 1), \
                        GREATEST(COALESCE(MAX(\(quoted(column))), 0), $3) > 0) FROM \(quoted(table))
                        """,
                    binds: binds
                ),
                logger: logger
            )
        }
    }

    func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
