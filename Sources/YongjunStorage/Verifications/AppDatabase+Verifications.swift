import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Runs `decide` in one IMMEDIATE write transaction and commits (fsynced) before returning; a throw rolls the whole group back.
    public func inVerificationTransaction(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        try await dbWriter.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try decide(try SQLiteVerificationTransaction(db: db, cache: self.registerCache))
                return .commit
            }
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
                    WHERE id >= ? AND ((use_key IS NOT NULL AND code_expires_at > ?) OR (nonce IS NOT NULL AND offline = 0))
                    ORDER BY id
                    """,
                arguments: [
                    RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, earliest.timeIntervalSince1970 * 1000))), Int(now.timeIntervalSince1970),
                ]
            )
            return rows.map(VerificationEntry.init(row:))
        }
    }

    /// Keeps a fresh 9-digit number for `token` until `expires`.
    public func registerShortCode(token: String, expires: Int, now: Int) async throws -> String {
        try await dbWriter.write { db in
            var generator = SystemRandomNumberGenerator()
            while true {
                let number = HolderSecret.shortCode(using: &generator)
                try db.execute(
                    sql: "INSERT INTO short_codes (number, token, expires_at) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING",
                    arguments: [number, token, expires]
                )
                if db.changesCount == 1 { return number }
            }
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
    static let columns = "id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key"

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
            response: row[10],
            useKey: row[11]
        )
    }
}
