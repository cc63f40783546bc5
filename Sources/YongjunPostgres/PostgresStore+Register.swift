import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    // MARK: Applications from the public page

    public func openBatchNumber() async throws -> Int64? {
        try await client.query("SELECT number FROM batches WHERE status = 'open' ORDER BY number DESC LIMIT 1", logger: logger)
            .collect().first?.decode(Int64.self)
    }

    // MARK: The status list

    public func statusListSource(today: CalendarDate) async throws -> StatusListSource {
        guard let totals = try await client.query("SELECT count(*), coalesce(max(status_idx), -1) FROM cards", logger: logger).collect().first
        else { return StatusListSource(entries: [], count: StatusIndexAllocator.capacity(cards: 0)) }
        let (cards, highest) = try totals.decode((Int64, Int64).self)
        var count = StatusIndexAllocator.capacity(cards: Int(cards))
        while count <= highest { count *= 2 }
        let rows = try await client.query(
            """
            SELECT status_idx, status FROM cards
            WHERE status_idx IS NOT NULL AND (status = 'revoked' OR valid_until < \(today.description))
            """,
            logger: logger
        )
        var entries: [(index: Int, value: StatusList.Value)] = []
        for try await row in rows {
            let (index, status) = try row.decode((Int64, String).self)
            entries.append((Int(index), status == "revoked" ? .revoked : .expired))
        }
        return StatusListSource(entries: entries, count: count)
    }

    public func setServiceState(_ name: String, _ value: String) async throws {
        try await client.query(
            "INSERT INTO service_state (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            logger: logger
        ).collect()
    }

    public func auditedSigningKeyIDs() async throws -> Set<String> {
        Set(
            try await client.query("SELECT subject FROM audit_log WHERE action IN ('keys.init', 'keys.rotate')", logger: logger)
                .collect().map { try $0.decode(String.self) }
        )
    }
}
