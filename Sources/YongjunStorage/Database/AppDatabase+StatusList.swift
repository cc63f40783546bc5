import Foundation
import GRDB
import YongjunCore

/// What the status list is built from: the cards that are not valid today, by their entry, and how long the list is.
public struct StatusListSource: Sendable {
    /// Entries that are not `valid`.
    public var entries: [(index: Int, value: StatusList.Value)]
    /// Entries in the list: enough for every card's index, never fewer than the herd-privacy minimum.
    public var count: Int

    package init(entries: [(index: Int, value: StatusList.Value)], count: Int) {
        self.entries = entries
        self.count = count
    }
}

extension AppDatabase {
    /// Revoked cards and cards whose validity ended before `today` (China calendar), with the list length.
    public func statusListSource(today: CalendarDate) async throws -> StatusListSource {
        try await dbWriter.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), coalesce(max(status_idx), -1) FROM cards")
            let cards: Int = row?[0] ?? 0
            let highest: Int = row?[1] ?? -1
            var count = StatusIndexAllocator.capacity(cards: cards)
            while count <= highest { count *= 2 }
            var entries: [(index: Int, value: StatusList.Value)] = []
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT status_idx, status FROM cards WHERE status_idx IS NOT NULL AND (status = 'revoked' OR valid_until < ?)",
                arguments: [today.description]
            )
            while let row = try rows.next() {
                entries.append((row[0], row[1] == "revoked" ? .revoked : .expired))
            }
            return StatusListSource(entries: entries, count: count)
        }
    }

    /// A value the server keeps for the CLI (the status list's public URL).
    public func serviceState(_ name: String) async throws -> String? {
        try await dbWriter.read { db in try String.fetchOne(db, sql: "SELECT value FROM service_state WHERE name = ?", arguments: [name]) }
    }

    /// The same, for commands that run outside the server.
    public func serviceStateNow(_ name: String) throws -> String? {
        try dbWriter.read { db in try String.fetchOne(db, sql: "SELECT value FROM service_state WHERE name = ?", arguments: [name]) }
    }

    public func setServiceState(_ name: String, _ value: String) async throws {
        try await dbWriter.write { db in
            try db.execute(
                sql: "INSERT INTO service_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                arguments: [name, value]
            )
        }
    }

    /// Where the running server publishes its status list; codes name it.
    public static let statusListURIState = "status_list_uri"
}

extension AppDatabase {
    /// The status list URL the server last announced, for codes the CLI signs. nil (codes without a status entry,
    /// which devices cannot check offline) until `serve` has run once with this data directory.
    public func statusListURIForCodes() throws -> String? {
        try serviceStateNow(Self.statusListURIState)
    }
}
