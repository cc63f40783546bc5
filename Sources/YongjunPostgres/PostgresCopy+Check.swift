import Foundation
import PostgresNIO
import YongjunCore
import YongjunStorage

/// What `store copy` found: rows per table on each side, signing key ids, and the audit log re-verified on the
/// copied rows. `committed` is true only when everything matched.
public struct StoreCopyReport: Sendable {
    public struct TableCount: Sendable, Encodable {
        public let table: String
        public let source: Int
        public var target: Int
        public var ok: Bool { source == target }

        enum CodingKeys: String, CodingKey { case table, source, target, ok }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(table, forKey: .table)
            try container.encode(source, forKey: .source)
            try container.encode(target, forKey: .target)
            try container.encode(ok, forKey: .ok)
        }
    }

    public var tables: [TableCount]
    /// Key ids the audit log names (keys init / keys rotate), in SQLite and as copied.
    public var sourceKeyIDs: [String]
    public var targetKeyIDs: [String]
    public var audit: AuditVerification
    public var committed = false

    public var keysOK: Bool { sourceKeyIDs == targetKeyIDs }
    public var ok: Bool { tables.allSatisfy(\.ok) && keysOK && audit.isIntact }
    public var rows: Int { tables.reduce(0) { $0 + $1.source } }
}

extension PostgresCopy {
    /// Counts the copied rows and re-verifies the audit log on them, inside the copy's transaction.
    func check(_ connection: PostgresConnection, counts: [StoreCopyReport.TableCount], sourceKeys: [String]) async throws -> StoreCopyReport {
        var tables = counts
        for index in tables.indices {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(quoted(tables[index].table))"), logger: logger)
            for try await count in rows.decode(Int64.self) { tables[index].target = Int(count) }
        }
        let (entries, state) = try await PostgresStore.auditRows(connection, logger: logger)
        let targetKeys = Set(entries.filter { ["keys.init", "keys.rotate"].contains($0.action) }.map(\.subject)).sorted()
        return StoreCopyReport(
            tables: tables,
            sourceKeyIDs: sourceKeys,
            targetKeyIDs: targetKeys,
            audit: AuditVerification(entries: entries, rows: state, chain: chain, seal: seal, keyIDs: keyFileIDs)
        )
    }
}

extension CellValue {
    /// The storage class, for messages (never the value: it may be personal data).
    var kind: String {
        switch self {
        case .null: "NULL"
        case .int: "an integer"
        case .double: "a real number"
        case .text: "text"
        case .blob: "a blob"
        }
    }
}
