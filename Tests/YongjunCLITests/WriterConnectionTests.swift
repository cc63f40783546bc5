import Logging
import PostgresNIO
import Testing
import YongjunCore

@testable import YongjunPostgres

@Suite("The verification log's PostgreSQL connection", .timeLimit(.minutes(5)))
struct WriterConnectionTests {
    @Test("a statement sent on a connection that has just closed is given up after the deadline, not waited on for ever")
    func closedConnection() async throws {
        let url = try PostgresURL(try await PostgresServer.running().createDatabase())
        let logger = Logger(label: "test")
        let configuration = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1",
            port: url.port,
            username: url.user,
            password: url.password,
            database: url.database,
            tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        let answered = try PostgresVerificationTransaction.wait(for: connection.query("SELECT 1", logger: logger), within: .seconds(5))
        #expect(answered.count == 1)
        try await connection.close()

        // The writer thread blocks on each statement; here the test's own thread does.
        let start = ContinuousClock.now
        let outcome = Result {
            try PostgresVerificationTransaction.wait(for: connection.query("SELECT 1", logger: logger), within: .milliseconds(500))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(throws: PostgresStatementTimedOut.self) { try outcome.get() }
    }
}
