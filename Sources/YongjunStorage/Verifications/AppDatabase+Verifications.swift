import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Runs `decide` in one IMMEDIATE write transaction and commits (fsynced) before returning; a throw rolls the whole group back.
    func inVerificationTransaction(_ decide: @escaping @Sendable (VerificationTransaction) throws -> Void) async throws {
        try await dbWriter.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try decide(try VerificationTransaction(db: db, cache: self.registerCache))
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

    /// When each shop's unknown 9-digit codes since `earliest` were answered (Unix seconds, oldest first): the guess
    /// budget is rebuilt from these records at start, so a restart does not hand out a fresh one.
    public func shortCodeMisses(since earliest: Date) async throws -> [(merchantID: Int64, at: Int)] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT merchant_id, created_at FROM verifications WHERE id >= ? AND reason = 'unknown_short_code' ORDER BY id",
                arguments: [RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, earliest.timeIntervalSince1970 * 1000)))]
            ).compactMap { row in
                Timestamp.parse(row[1]).map { (row[0], Int($0.timeIntervalSince1970)) }
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
