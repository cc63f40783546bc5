import PostgresNIO
import YongjunCore

extension PostgresURL {
    /// The client configuration for this URL (TLS with the system's trust roots, certificate and host name checked, unless `disable`).
    public var configuration: PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)",
                username: user,
                password: password,
                database: database
            )
        }
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require, .verifyFull: .require(.makeClientConfiguration())
            }
        return PostgresClient.Configuration(host: host ?? "", port: port, username: user, password: password, database: database, tls: tls)
    }
}
