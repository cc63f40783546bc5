import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` with a client for `configuration` whose pool runs beside it, and closes the pool once `body`
    /// returns or throws: for commands and tests that use PostgreSQL for a while (the server runs its client as a
    /// Service instead).
    public static func withRunning<T: Sendable>(
        _ configuration: Configuration,
        logger: Logger,
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        // The pool warns when leased before its run task got going, a harmless race here; its failures still
        // reach `body` as thrown errors.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

extension PostgresClient {
    /// `withTransaction`, but throwing the error that made the transaction fail (the body's, BEGIN's or COMMIT's)
    /// instead of PostgresNIO's wrapper, so typed errors reach the caller as they were thrown.
    public func inTransaction<T>(
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }
}
