import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    // MARK: Holders

    public func holderSignInState(cardNo: String, now: Date) async throws -> Result<StoredHolderSecrets?, HolderAccessError> {
        let lockedUntil =
            try await client.query("SELECT locked_until FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger)
            .collect().first?.decode(String?.self) ?? nil
        if let lock = SignInGuard.lock(lockedUntil: lockedUntil, now: now) { return .failure(lock) }
        let secrets = try await client.query(
            """
            SELECT activation_hash, pin_hash FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id
            WHERE cards.card_no = \(cardNo)
            """,
            logger: logger
        ).collect().first.map { row in
            let (activation, pin) = try row.decode((String?, String?).self)
            return StoredHolderSecrets(activationHash: activation, pinHash: pin)
        }
        return .success(secrets)
    }

    public func finishHolderSignIn(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        newPINHash: String?
    ) async throws -> Result<Card, HolderAccessError> {
        try await client.withTransaction(logger: logger) { connection in
            // The card number's guard row is the lock two instances signing in the same card at once must share.
            try await connection.query(
                "INSERT INTO sign_in_guards (card_no, failures, lock_level) VALUES (\(cardNo), 0, 0) ON CONFLICT (card_no) DO NOTHING",
                logger: logger
            ).collect()
            let guardRow = try await connection.query(
                "SELECT failures, lock_level, locked_until FROM sign_in_guards WHERE card_no = \(cardNo) FOR UPDATE",
                logger: logger
            ).collect().first
            var (failures, level, lockedUntil): (Int64, Int64, String?) = (0, 0, nil)
            if let guardRow { (failures, level, lockedUntil) = try guardRow.decode((Int64, Int64, String?).self) }
            if let lock = SignInGuard.lock(lockedUntil: lockedUntil, now: now) { return .failure(lock) }
            let card = try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger)
            var current: StoredHolderSecrets?
            if let card {
                current = try await connection.query(
                    "SELECT activation_hash, pin_hash FROM holder_accounts WHERE card_id = \(card.id)",
                    logger: logger
                ).collect().first.map { row in
                    let (activation, pin) = try row.decode((String?, String?).self)
                    return StoredHolderSecrets(activationHash: activation, pinHash: pin)
                }
            }
            guard matched, let card, let checked, current == checked else {
                let next = SignInGuard.failure(failures: Int(failures), level: Int(level), now: now)
                try await connection.query(
                    """
                    UPDATE sign_in_guards SET failures = \(next.failures), lock_level = \(next.level), locked_until = \(next.lockedUntil)
                    WHERE card_no = \(cardNo)
                    """,
                    logger: logger
                ).collect()
                return .failure(next.outcome)
            }
            if card.isRevoked { return .failure(.cardNotUsable("证件已注销")) }
            try await connection.query("DELETE FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger).collect()
            if let newPINHash {
                try await connection.query(
                    "UPDATE holder_accounts SET pin_hash = \(newPINHash), activation_hash = NULL, activated_at = \(Timestamp.iso(now)) WHERE card_id = \(card.id)",
                    logger: logger
                ).collect()
            }
            return .success(card)
        }
    }

    public func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) async throws {
        let stamp = Timestamp.iso(now)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM holder_sessions WHERE expires_at < \(stamp)", logger: logger).collect()
            try await connection.query(
                """
                INSERT INTO holder_sessions (token_hash, card_id, created_at, expires_at)
                VALUES (\(HolderSecret.digest(token)), \(cardID), \(stamp), \(Timestamp.iso(now.addingTimeInterval(lifetime))))
                """,
                logger: logger
            ).collect()
        }
    }

    public func holderSessionCard(token: String, now: Date) async throws -> Card? {
        try await client.query(
            """
            SELECT row_to_json(cards)::text FROM holder_sessions JOIN cards ON cards.id = holder_sessions.card_id
            WHERE token_hash = \(HolderSecret.digest(token)) AND expires_at > \(Timestamp.iso(now))
            """,
            logger: logger
        ).collect().first.map { try Self.decodeRecord(Card.self, $0) }
    }

    public func endHolderSession(token: String) async throws {
        try await client.query("DELETE FROM holder_sessions WHERE token_hash = \(HolderSecret.digest(token))", logger: logger).collect()
    }
}
