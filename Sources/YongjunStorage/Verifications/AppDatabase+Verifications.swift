import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Runs `decide` in one write transaction and inserts the records it returns; commits (fsynced) before returning.
    func inVerificationTransaction(_ decide: @escaping @Sendable (RegisterSnapshot) -> [VerificationEntry]) async throws {
        try await dbWriter.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try self.insert(decide(try RegisterSnapshot(db: db, cache: self.registerCache)), db)
                return .commit
            }
        }
    }

    private func insert(_ entries: [VerificationEntry], _ db: Database) throws {
        guard !entries.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO verifications
                    (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for entry in entries {
            try statement.execute(arguments: [
                entry.id, entry.merchantID, entry.cardID, entry.codeID, entry.keyID, entry.valid, entry.reason,
                entry.nonce, entry.codeExpiresAt, entry.createdAt, entry.response,
            ])
        }
    }

    /// Verifications still relevant after a restart: valid uses of unexpired codes, and nonces, recorded since `earliest`.
    public func recentVerifications(now: Date, since earliest: Date) async throws -> [VerificationEntry] {
        try await dbWriter.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(VerificationEntry.columns)
                    FROM verifications
                    WHERE id >= ? AND ((valid = 1 AND code_expires_at > ?) OR nonce IS NOT NULL)
                    ORDER BY id
                    """,
                arguments: [
                    RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, earliest.timeIntervalSince1970 * 1000))), Int(now.timeIntervalSince1970),
                ]
            )
            return rows.map(VerificationEntry.init(row:))
        }
    }

    /// How many verifications are on record (reports and tests).
    public func verificationCount() throws -> Int {
        try dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM verifications") ?? 0 }
    }

    /// The most recent verification records, newest first.
    public func latestVerifications(limit: Int) throws -> [VerificationEntry] {
        try dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(VerificationEntry.columns)
                    FROM verifications ORDER BY id DESC LIMIT ?
                    """,
                arguments: [limit]
            ).map(VerificationEntry.init(row:))
        }
    }
}

extension VerificationEntry {
    /// The columns `init(row:)` reads, in order.
    static let columns = "id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response"

    init(row: Row) {
        self.init(
            id: row[0],
            merchantID: row[1],
            cardID: row[2],
            codeID: row[3],
            keyID: row[4],
            valid: row[5],
            reason: row[6],
            nonce: row[7],
            codeExpiresAt: row[8],
            createdAt: row[9],
            response: row[10]
        )
    }
}
