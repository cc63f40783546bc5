import PostgresNIO
import YongjunCore

/// A PostgreSQL store that cannot be used as it is, and what to do about it.
public struct PostgresStoreError: UserFacingError, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }

    static func newerSchema(migration: String) -> PostgresStoreError {
        PostgresStoreError(
            "the PostgreSQL database has migration '\(migration)', which this version of yongjun does not know: a newer version "
                + "migrated it; upgrade yongjun instead of running an older one against it"
        )
    }

    /// What went wrong talking to PostgreSQL, for the operator: the server's own message and SQLSTATE when it
    /// answered (PSQLError's description hides them), the connection problem otherwise. Never the password.
    public static func describing(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            let state = error.serverInfo?[.sqlState].map { " [SQLSTATE \($0)]" } ?? ""
            return "PostgreSQL: \(message)\(detail)\(state)"
        }
        let cause = error.underlying.map { ": \($0)" } ?? ""
        return "PostgreSQL: \(error.code)\(cause)"
    }
}
