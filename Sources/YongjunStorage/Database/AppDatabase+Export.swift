import Foundation
import GRDB

/// One stored value read for export, in SQLite's own storage classes and free of GRDB's types.
public enum CellValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(Array(data))
        }
    }
}

/// A column as `PRAGMA table_info` gives it.
public struct ExportColumn: Sendable, Equatable {
    public let name: String
    /// NOT NULL, or part of the primary key (another store enforces that; SQLite lets a text key be NULL).
    public let notNull: Bool
}

/// A table of the register, with what copying it needs.
public struct ExportTable: Sendable {
    public let name: String
    public let columns: [ExportColumn]
    /// Tables its foreign keys name (other than itself).
    public let references: Set<String>
    /// What chunks are ordered and resumed by: the rowid, or the primary key of a WITHOUT ROWID table.
    let keyColumns: [String]
}

/// Where the next chunk of a table starts.
public struct ExportPosition: Sendable {
    let key: [DatabaseValue]
}

/// A Yongjun SQLite database opened read-only for copying elsewhere. Every read sees the same snapshot: one read
/// transaction stays open from `open` to `close`, so rows committed meanwhile by a running server are not half-seen.
public final class DatabaseExport: Sendable {
    private let queue: DatabaseQueue
    /// Every table of the register (not SQLite's or the migrator's own), referenced tables before the tables
    /// naming them where the references allow it (merchants and applications name each other).
    public let tables: [ExportTable]

    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw RegisterError("no SQLite database at \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        tables = try queue.inDatabase { db in
            let migrator = AppDatabase.migrator
            guard try migrator.hasCompletedMigrations(db), try !migrator.hasBeenSuperseded(db) else {
                throw RegisterError(
                    "\(path) is not at this version's schema: if an older yongjun made it, run this version once on it "
                        + "(e.g. `yongjun audit verify`); if a newer one did, use that version"
                )
            }
            try db.beginTransaction(.deferred)
            return try Self.orderedTables(db)
        }
    }

    /// Ends the read transaction.
    public func close() {
        try? queue.inDatabase { db in if db.isInsideTransaction { try db.rollback() } }
    }

    /// The number of rows in `table`.
    public func count(_ table: ExportTable) throws -> Int {
        try queue.inDatabase { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.name.quotedDatabaseIdentifier)") ?? 0 }
    }

    /// Up to `limit` rows of `table` after `position` (from the start when nil), values in `columns` order, and
    /// where the next chunk starts (nil once the table is done).
    public func rows(_ table: ExportTable, after position: ExportPosition?, limit: Int) throws -> ([[CellValue]], ExportPosition?) {
        let keys = table.keyColumns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        let columns = table.columns.map(\.name.quotedDatabaseIdentifier).joined(separator: ", ")
        var sql = "SELECT \(keys), \(columns) FROM \(table.name.quotedDatabaseIdentifier)"
        var values: [DatabaseValue] = []
        if let position {
            sql += " WHERE (\(keys)) > (\(Array(repeating: "?", count: position.key.count).joined(separator: ", ")))"
            values = position.key
        }
        sql += " ORDER BY \(keys) LIMIT ?"
        values.append(limit.databaseValue)
        let arguments = StatementArguments(values)
        let rows = try queue.inDatabase { db in try Row.fetchAll(db, sql: sql, arguments: arguments) }
        let width = table.keyColumns.count
        let cells = rows.map { row in (width..<row.count).map { CellValue(row[$0] as DatabaseValue) } }
        let next = rows.count < limit ? nil : rows.last.map { row in ExportPosition(key: (0..<width).map { row[$0] as DatabaseValue }) }
        return (cells, next)
    }

    /// The last id each AUTOINCREMENT table handed out (`sqlite_sequence`): never handed out again, even if its
    /// row is gone, so another store must continue after it.
    public func sequences() throws -> [String: Int64] {
        try queue.inDatabase { db in
            guard try db.tableExists("sqlite_sequence") else { return [:] }
            let rows = try Row.fetchAll(db, sql: "SELECT name, seq FROM sqlite_sequence")
            return Dictionary(rows.map { ($0[0] as String, $0[1] as Int64) }, uniquingKeysWith: max)
        }
    }

    /// The signing key ids the audit log says `keys init` and `keys rotate` created.
    public func auditedSigningKeyIDs() throws -> [String] {
        try queue.inDatabase { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT subject FROM audit_log WHERE action IN ('keys.init', 'keys.rotate') ORDER BY subject")
        }
    }

    private static func orderedTables(_ db: Database) throws -> [ExportTable] {
        let names = try String.fetchAll(
            db,
            sql:
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != 'grdb_migrations' ORDER BY name"
        )
        var pending = try names.map { name in try describe(db, name) }
        var ordered: [ExportTable] = []
        while !pending.isEmpty {
            let done = Set(ordered.map(\.name))
            // A table whose references are all placed goes next; if none is, the first table on a cycle of
            // references (merchants and applications name each other), so that its dependants follow it.
            let index =
                pending.firstIndex { $0.references.isSubset(of: done) }
                ?? pending.firstIndex { table in reaches(table.name, from: table, in: pending) } ?? 0
            ordered.append(pending.remove(at: index))
        }
        return ordered
    }

    /// True if following references from `table` among `tables` leads to `name`.
    private static func reaches(_ name: String, from table: ExportTable, in tables: [ExportTable]) -> Bool {
        var seen: Set<String> = []
        var next = Array(table.references)
        while let current = next.popLast() {
            if current == name { return true }
            guard seen.insert(current).inserted, let found = tables.first(where: { $0.name == current }) else { continue }
            next += found.references
        }
        return false
    }

    private static func describe(_ db: Database, _ name: String) throws -> ExportTable {
        let info = try Row.fetchAll(db, sql: "SELECT name, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
        let columns = info.map { ExportColumn(name: $0[0], notNull: ($0[1] as Int64) != 0 || ($0[2] as Int64) > 0) }
        let references = try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list(?)", arguments: [name])
        let withoutRowID =
            try Bool.fetchOne(db, sql: "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = ?", arguments: [name]) ?? false
        let primaryKey = info.filter { ($0[2] as Int64) > 0 }.sorted { ($0[2] as Int64) < ($1[2] as Int64) }.map { $0[0] as String }
        return ExportTable(
            name: name,
            columns: columns,
            references: Set(references).subtracting([name]),
            keyColumns: withoutRowID ? primaryKey : ["rowid"]
        )
    }
}

extension AppDatabase {
    /// Opens the database file at `path` read-only for copying elsewhere; refuses one not at this version's schema.
    public static func openForExport(path: String) throws -> DatabaseExport {
        try DatabaseExport(path: path)
    }
}
