import Foundation
import Logging
import PostgresNIO
import Synchronization
import YongjunCore
import YongjunStorage

extension PostgresStore {
    // MARK: The verification log

    public func inVerificationTransaction(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        // Two instances' groups can wait on each other's rows (the same use key or nonce taken in opposite orders);
        // PostgreSQL then aborts one of them. Its decisions touched nothing outside the database yet, so run it again.
        var attempt = 1
        while true {
            do {
                return try await runGroup(decide)
            } catch let error as PSQLError where attempt < 3 && Self.mayRetry(error) {
                logger.notice("verification group retried", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
                attempt += 1
            }
        }
    }

    /// Deadlock detected, or a serialization failure.
    static func mayRetry(_ error: PSQLError) -> Bool {
        ["40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    private func runGroup(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        let cache = cache
        let logger = logger
        let connection = try await writerConnection()
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                self.writer.async {
                    continuation.resume(with: Result { try Self.decideAndCommit(decide, connection: connection, cache: cache, logger: logger) })
                }
            }
        } catch {
            // Whatever failed, the pool checks the connection (or replaces it) before the next group leases it again;
            // one that stopped answering is closed first, so that nothing else waits on it.
            if error is PostgresStatementTimedOut { connection.close().whenComplete { _ in } }
            writerLease.giveBack()
            throw error
        }
    }

    /// The connection kept for the groups, leased again (within `leaseDeadline`) when there is none or it closed.
    private func writerConnection() async throws -> PostgresConnection {
        if let held = writerLease.connection {
            if !held.isClosed { return held }
            writerLease.giveBack()
        }
        let lease = writerLease
        return try await withCheckedThrowingContinuation { (delivered: CheckedContinuation<PostgresConnection, any Error>) in
            let once = ResumeOnce(delivered)
            Task {
                do {
                    try await self.withConnection(within: Self.leaseDeadline) { connection in
                        // Held until `giveBack`; then the pool has it back.
                        await withCheckedContinuation { (released: CheckedContinuation<Void, Never>) in
                            lease.hold(connection, until: released)
                            once.resume(with: .success(connection))
                        }
                    }
                } catch {
                    once.resume(with: .failure(error))
                }
            }
        }
    }

    /// One group on the writer thread: decide, then write; decided again (at most a few times) when another instance
    /// took a use key, nonce or daily benefit this group counted on, or the register changed under its reads.
    ///
    /// The usual group costs two round trips after its connection: its cards and shops not yet cached (`prefetch`),
    /// and its writes as one statement that also checks that the register version is still the one the cache was
    /// checked at. Once a pass lost a row to another instance, the next ones run in a transaction, whose inserts say
    /// which row was taken; a pass that had to begin a transaction anyway checks the version before it commits.
    private static func decideAndCommit(
        _ decide: @Sendable (any VerificationTransaction) throws -> Void,
        connection: PostgresConnection,
        cache: RegisterCache,
        logger: Logger
    ) throws {
        var hints = GroupHints()
        var inTransaction = false
        var readVersionFirst = false
        for _ in 0..<4 {
            let transaction = PostgresVerificationTransaction(connection: connection, cache: cache, logger: logger, hints: hints)
            do {
                if inTransaction { try transaction.begin() }
                let checkedAt = inTransaction || readVersionFirst ? nil : cache.dataVersion
                if checkedAt == nil { try transaction.revalidateCache() }
                try decide(transaction)
                if !transaction.begun && transaction.fitsOneStatement {
                    switch try transaction.commitAsOneStatement(registerVersion: checkedAt) {
                    case .committed: return
                    case .registerChanged: readVersionFirst = true
                    case .rowTaken: inTransaction = true
                    }
                    continue
                }
                try transaction.begin()
                if let next = try transaction.flush() {
                    try transaction.run("ROLLBACK")
                    hints = next
                    inTransaction = true
                    continue
                }
                if let checkedAt, try transaction.registerVersion() != checkedAt {
                    try transaction.run("ROLLBACK")
                    readVersionFirst = true
                    continue
                }
                try transaction.run("COMMIT")
                return
            } catch {
                // A connection that stopped answering is closed by the caller, which rolls the transaction back; a
                // ROLLBACK sent on it would only wait out another deadline.
                if transaction.begun && !(error is PostgresStatementTimedOut) { _ = try? transaction.run("ROLLBACK") }
                throw error
            }
        }
        throw VerificationGroupError.keptConflicting
    }

    public func recentVerifications(now: Date, since earliest: Date) async throws -> [VerificationEntry] {
        let lower = RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, earliest.timeIntervalSince1970 * 1000)))
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let rows = try await client.query(
            """
            SELECT id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                eligible, benefit, benefit_rule
            FROM verifications
            WHERE id >= \(lower) AND ((use_key IS NOT NULL AND code_expires_at > \(nowSeconds)) OR (nonce IS NOT NULL AND offline = 0))
            ORDER BY id
            """,
            logger: logger
        )
        var entries: [VerificationEntry] = []
        for try await row in rows {
            let (id, merchantID, cardID, codeID, keyID, valid, reason, nonce, expires, createdAt, response, useKey, eligible, benefit, rule) =
                try row.decode(
                    (
                        String, Int64, String?, String?, String?, Int64, String?, String?, Int64?, String, String, String?, Int64?, String?,
                        Int64?
                    ).self
                )
            entries.append(
                VerificationEntry(
                    id: id,
                    merchantID: merchantID,
                    cardID: cardID,
                    codeID: codeID,
                    keyID: keyID,
                    valid: valid != 0,
                    reason: reason,
                    nonce: nonce,
                    codeExpiresAt: expires.map(Int.init),
                    createdAt: createdAt,
                    response: response,
                    useKey: useKey,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit,
                    benefitRule: rule.map(Int.init)
                )
            )
        }
        return entries
    }

    public func registerShortCode(token: String, expires: Int, now: Int) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let number = HolderSecret.shortCode(using: &generator)
            let rows = try await client.query(
                "INSERT INTO short_codes (number, token, expires_at) VALUES (\(number), \(token), \(expires)) ON CONFLICT (number) DO NOTHING RETURNING number",
                logger: logger
            ).collect()
            if !rows.isEmpty { return number }
        }
    }
}

/// The connection the verification log's groups run on, leased from the pool once and kept between groups: leasing
/// per group cost about 0.4 ms of a 4 ms group (a task group, a timer, the pool's bookkeeping), which a till waits
/// for. Given back when a group failed (the pool checks or replaces it), when it closed, and when the log stops, so
/// the pool can shut down.
final class WriterLease: Sendable {
    private struct Held {
        let connection: PostgresConnection
        let released: CheckedContinuation<Void, Never>
    }

    private let held = Mutex<Held?>(nil)

    var connection: PostgresConnection? { held.withLock { $0?.connection } }

    func hold(_ connection: PostgresConnection, until released: CheckedContinuation<Void, Never>) {
        let previous = held.withLock { held in
            defer { held = Held(connection: connection, released: released) }
            return held
        }
        previous?.released.resume()
    }

    func giveBack() {
        held.withLock { held in
            defer { held = nil }
            return held
        }?.released.resume()
    }
}
