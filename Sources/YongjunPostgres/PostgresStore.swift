import Logging
import PostgresNIO
import YongjunStorage

/// The store on PostgreSQL: several Yongjun instances share one database through it.
public final class PostgresStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }
}
