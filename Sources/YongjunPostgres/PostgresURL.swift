import Foundation
import PostgresNIO
import YongjunCore

/// A `postgres://user:password@host:port/database` address as the client's configuration.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public let user: String
    public let password: String?
    public let host: String
    public let port: Int
    public let database: String
    public let requireTLS: Bool

    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw PostgresURLError(description: "database_url must look like postgres://USER:PASSWORD@HOST:5432/DATABASE")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresURLError(description: "database_url names no database: add /DATABASE after the host") }
        user = components.user?.removingPercentEncoding ?? "postgres"
        password = components.password?.removingPercentEncoding
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        self.database = database
        requireTLS = components.queryItems?.first { $0.name == "sslmode" }?.value == "require"
    }

    public var description: String { "postgres://\(user)\(password == nil ? "" : ":********")@\(host):\(port)/\(database)" }

    public var configuration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable
        )
        configuration.options.maximumConnections = 40
        return configuration
    }
}

public struct PostgresURLError: UserFacingError, Sendable {
    public let description: String
}
