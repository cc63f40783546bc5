import Logging
import PostgresNIO
import YongjunCore

extension PostgresURL {
    /// Opens one connection and closes it: a wrong host, port, password or database then fails with PostgreSQL's or
    /// the socket's own reason, where the pool would only say that it gave up.
    public func checkConnection(logger: Logger) async throws {
        var configuration: PostgresConnection.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS =
                switch sslMode {
                case .disable: .disable
                case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                case .require, .verifyFull: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                }
            configuration = .init(host: host ?? "", port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw PostgresStoreError("cannot connect: \(PostgresStoreError.describing(error))")
        }
    }
}
