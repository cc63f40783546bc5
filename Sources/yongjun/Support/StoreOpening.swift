import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunPostgres
import YongjunStorage

extension GlobalOptions {
    /// Runs `body` on the store this command names: the PostgreSQL database of `--database` / `YONGJUN_DATABASE`
    /// (migrated first; its pool closed when `body` returns), else the embedded SQLite file in the data directory.
    func withAdminStore<T: Sendable>(_ body: (any AdminStore) async throws -> T) async throws -> T {
        guard let databaseURL else { return try await body(try openDatabase()) }
        let url = try PostgresURL(databaseURL)
        let logger = Self.storeLogger
        try await url.checkReachable(logger: logger)
        return try await PostgresClient.withRunning(url.configuration, logger: logger) { client in
            try await PostgresMigrator().migrate(client, logger: logger)
            return try await body(PostgresStore(client: client, logger: logger))
        }
    }

    /// Warnings and errors of the PostgreSQL client, on stderr (stdout carries what scripts read).
    static var storeLogger: Logger {
        var logger = Logger(label: "yongjun.postgres") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }
}

extension PostgresURL {
    /// One connection opened and closed first: the pool would retry an unreachable server for ever, where a person
    /// at a terminal (or systemd) needs the reason now. The message names the setting, never the password.
    func checkReachable(logger: Logger) async throws {
        do {
            try await checkConnection(logger: logger)
        } catch {
            throw CLIFailure(message: "database_url \(redacted): \(error)")
        }
    }
}
