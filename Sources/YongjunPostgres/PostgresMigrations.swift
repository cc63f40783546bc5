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

/// Brings a PostgreSQL database up to `migrations`, recording each in `schema_migrations`, under a transaction-scoped
/// advisory lock, so instances starting together apply each migration once, one after the other.
public struct PostgresMigrator: Sendable {
    public let migrations: [PostgresMigration]
    static let lockKey: Int64 = 0x596F_6E67_6A75_6E01

    public init(_ migrations: [PostgresMigration] = PostgresMigrations.all) {
        self.migrations = migrations
    }

    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger, now: @Sendable () -> Date = { Date() }) async throws -> [String] {
        var applied: [String] = []
        for migration in migrations {
            let at = Timestamp.iso(now())
            let didApply = try await client.inTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                try await connection.query("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)", logger: logger)
                let done = try await connection.query("SELECT 1 FROM schema_migrations WHERE name = \(migration.name)", logger: logger).collect()
                guard done.isEmpty else { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), \(at))", logger: logger)
                return true
            }
            if didApply { applied.append(migration.name) }
        }
        return applied
    }
}
