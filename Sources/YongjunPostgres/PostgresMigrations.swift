import Foundation
import Logging
import PostgresNIO
import YongjunCore

/// One named step of the PostgreSQL schema: its statements run in order, in one transaction with its record.
public struct PostgresMigration: Sendable {
    public let name: String
    public let statements: [String]

    public init(_ name: String, _ statements: [String]) {
        self.name = name
        self.statements = statements
    }
}

/// Every migration this version knows, in the order they apply. Shipped migrations are never edited, renamed or
/// reordered (a database that applied one keeps it by name): add a new one at the end instead.
public enum PostgresMigrations {
    public static let all: [PostgresMigration] = schema + shared
}

/// Brings a PostgreSQL database up to `migrations`, recording each in `schema_migrations`. Each migration takes a
/// transaction-scoped advisory lock first, so instances starting together apply it once, one after the other.
public struct PostgresMigrator: Sendable {
    public let migrations: [PostgresMigration]

    /// Any number, the same in every Yongjun: the advisory lock that serialises migrations on one database.
    static let lockKey: Int64 = 0x596F_6E67_6A75_6E01

    public init(_ migrations: [PostgresMigration] = PostgresMigrations.all) {
        self.migrations = migrations
    }

    /// Applies the migrations the database lacks and returns their names (empty when it was up to date). Refuses a
    /// database that applied migrations this version does not know: a newer Yongjun wrote it.
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger, now: @Sendable () -> Date = { Date() }) async throws -> [String] {
        let known = Set(migrations.map(\.name))
        var applied: [String] = []
        for migration in migrations {
            let at = Timestamp.iso(now())
            let didApply = try await client.inTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)",
                    logger: logger
                )
                var done: Set<String> = []
                for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger).decode(String.self) {
                    done.insert(name)
                }
                if let unknown = done.subtracting(known).sorted().first {
                    throw PostgresStoreError.newerSchema(migration: unknown)
                }
                guard !done.contains(migration.name) else { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), \(at))", logger: logger)
                return true
            }
            if didApply {
                logger.info("applied PostgreSQL migration", metadata: ["migration": "\(migration.name)"])
                applied.append(migration.name)
            }
        }
        return applied
    }
}
