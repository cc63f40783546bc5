import Foundation
import GRDB
import YongjunCore

/// Why a holder could not activate or sign in. Unknown card, card without activation, wrong secret and (for
/// activation) a card already activated all give `wrongCredentials`: nobody can tell which card numbers exist.
public enum HolderAccessError: Error, Sendable, Equatable {
    case wrongCredentials(attemptsLeft: Int)
    /// Too many failures; try again after this many seconds, or (nil) only after the bureau unlocks the card.
    case locked(retryAfter: Int?)
    case cardNotUsable(String)
}

/// What a sign-in attempt is checked against, read before the slow hash so a locked card costs no hash.
public struct StoredHolderSecrets: Sendable, Equatable {
    public let activationHash: String?
    public let pinHash: String?

    package init(activationHash: String?, pinHash: String?) {
        self.activationHash = activationHash
        self.pinHash = pinHash
    }
}

extension AppDatabase {

    /// Gives a card a new one-time activation code (stored hashed); any PIN, sessions and lock are cleared.
    public func issueActivation(cardNo: String, code: String, now: Date, audit: AuditContext? = nil) throws {
        try write(audit: audit, now: now, AuditNote(action: "cards.activation", subject: cardNo)) { db, _ in
            guard let card = try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db) else { throw RegisterError.cardNotFound(cardNo) }
            guard !card.isRevoked else { throw RegisterError("card \(cardNo) is revoked; no activation code can be issued") }
            try db.execute(
                sql: """
                    INSERT INTO holder_accounts (card_id, activation_hash, activation_issued_at, pin_hash, activated_at, failed_attempts, locked_until)
                    VALUES (?, ?, ?, NULL, NULL, 0, NULL)
                    ON CONFLICT(card_id) DO UPDATE SET activation_hash = excluded.activation_hash,
                        activation_issued_at = excluded.activation_issued_at, pin_hash = NULL, activated_at = NULL,
                        failed_attempts = 0, locked_until = NULL
                    """,
                arguments: [card.id, HolderSecret.digest(HolderSecret.normalizedActivationCode(code)), Timestamp.iso(now)]
            )
            try db.execute(sql: "DELETE FROM holder_sessions WHERE card_id = ?", arguments: [card.id])
            try db.execute(sql: "DELETE FROM sign_in_guards WHERE card_no = ?", arguments: [cardNo])
        }
    }

    /// Clears a card number's failed attempts, lock and escalation (the bureau, after checking who is asking).
    public func unlockHolder(cardNo: String, now: Date, audit: AuditContext? = nil) throws {
        try write(audit: audit, now: now, AuditNote(action: "cards.unlock", subject: cardNo)) { db, _ in
            guard try Card.filter(Card.Columns.cardNo == cardNo).fetchCount(db) > 0 else { throw RegisterError.cardNotFound(cardNo) }
            try db.execute(sql: "DELETE FROM sign_in_guards WHERE card_no = ?", arguments: [cardNo])
        }
    }

    /// The lock on `cardNo` (seconds left, nil seconds = until unlocked), else the secrets to check a sign-in against.
    public func holderSignInState(cardNo: String, now: Date) async throws -> Result<StoredHolderSecrets?, HolderAccessError> {
        try await dbWriter.read { db in
            if let lock = try Self.activeLock(db, cardNo: cardNo, now: now) { return .failure(lock) }
            let secrets = try Row.fetchOne(
                db,
                sql: "SELECT activation_hash, pin_hash FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id WHERE cards.card_no = ?",
                arguments: [cardNo]
            ).map { StoredHolderSecrets(activationHash: $0[0], pinHash: $0[1]) }
            return .success(secrets)
        }
    }

    /// Records the outcome of a checked secret. `matched` is only believed if the secrets are still `checked` (a new
    /// activation code in between counts as a mismatch). On a match with `newPINHash` (an activation), the PIN is set
    /// and the activation code consumed in the same transaction.
    public func finishHolderSignIn(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        newPINHash: String? = nil
    ) async throws -> Result<Card, HolderAccessError> {
        try await dbWriter.write { db in
            if let lock = try Self.activeLock(db, cardNo: cardNo, now: now) { return .failure(lock) }
            let card = try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db)
            let current = try card.flatMap { card in
                try Row.fetchOne(db, sql: "SELECT activation_hash, pin_hash FROM holder_accounts WHERE card_id = ?", arguments: [card.id])
                    .map { StoredHolderSecrets(activationHash: $0[0], pinHash: $0[1]) }
            }
            guard matched, let card, let checked, current == checked else { return .failure(try Self.countFailure(db, cardNo: cardNo, now: now)) }
            if card.isRevoked { return .failure(.cardNotUsable("证件已注销")) }
            try db.execute(sql: "DELETE FROM sign_in_guards WHERE card_no = ?", arguments: [cardNo])
            if let newPINHash { try Self.setHolderPIN(db, card: card, pinHash: newPINHash, now: now) }
            return .success(card)
        }
    }

    private static func activeLock(_ db: Database, cardNo: String, now: Date) throws -> HolderAccessError? {
        SignInGuard.lock(
            lockedUntil: try String.fetchOne(db, sql: "SELECT locked_until FROM sign_in_guards WHERE card_no = ?", arguments: [cardNo]),
            now: now
        )
    }

    /// One more failure for `cardNo`, known or not; the fifth locks it for the next, longer period.
    private static func countFailure(_ db: Database, cardNo: String, now: Date) throws -> HolderAccessError {
        let row = try Row.fetchOne(db, sql: "SELECT failures, lock_level FROM sign_in_guards WHERE card_no = ?", arguments: [cardNo])
        let (failures, level, lockedUntil, outcome) = SignInGuard.failure(failures: row?[0] ?? 0, level: row?[1] ?? 0, now: now)
        try db.execute(
            sql: """
                INSERT INTO sign_in_guards (card_no, failures, lock_level, locked_until) VALUES (?, ?, ?, ?)
                ON CONFLICT (card_no) DO UPDATE SET failures = excluded.failures, lock_level = excluded.lock_level,
                    locked_until = excluded.locked_until
                """,
            arguments: [cardNo, failures, level, lockedUntil]
        )
        return outcome
    }

    /// Sets the PIN and consumes the activation code.
    private static func setHolderPIN(_ db: Database, card: Card, pinHash: String, now: Date) throws {
        try db.execute(
            sql: "UPDATE holder_accounts SET pin_hash = ?, activation_hash = NULL, activated_at = ? WHERE card_id = ?",
            arguments: [pinHash, Timestamp.iso(now), card.id]
        )
    }

    public func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) async throws {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM holder_sessions WHERE expires_at < ?", arguments: [Timestamp.iso(now)])
            try db.execute(
                sql: "INSERT INTO holder_sessions (token_hash, card_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [HolderSecret.digest(token), cardID, Timestamp.iso(now), Timestamp.iso(now.addingTimeInterval(lifetime))]
            )
        }
    }

    /// The card behind an unexpired session token.
    public func holderSessionCard(token: String, now: Date) async throws -> Card? {
        try await dbWriter.read { db in
            try Card.fetchOne(
                db,
                sql: "SELECT cards.* FROM holder_sessions JOIN cards ON cards.id = holder_sessions.card_id WHERE token_hash = ? AND expires_at > ?",
                arguments: [HolderSecret.digest(token), Timestamp.iso(now)]
            )
        }
    }

    public func endHolderSession(token: String) async throws {
        try await dbWriter.write { db in
            try db.execute(sql: "DELETE FROM holder_sessions WHERE token_hash = ?", arguments: [HolderSecret.digest(token)])
        }
    }
}

/// A holder's phone access as the bureau sees it.
public struct HolderAccountStatus: Sendable, Codable {
    public var activationIssuedAt: String?
    public var activatedAt: String?
    public var failedAttempts: Int
    public var lockedUntil: String?
    /// How many locks in a row (each longer); 4 means locked until `yongjun cards unlock`.
    public var lockLevel: Int

    package init(activationIssuedAt: String?, activatedAt: String?, failedAttempts: Int, lockedUntil: String?, lockLevel: Int) {
        self.activationIssuedAt = activationIssuedAt
        self.activatedAt = activatedAt
        self.failedAttempts = failedAttempts
        self.lockedUntil = lockedUntil
        self.lockLevel = lockLevel
    }
}

extension AppDatabase {
    public func holderAccountStatus(cardNo: String) throws -> HolderAccountStatus? {
        try dbWriter.read { db in
            let account = try Row.fetchOne(
                db,
                sql: """
                    SELECT activation_issued_at, activated_at FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id
                    WHERE cards.card_no = ?
                    """,
                arguments: [cardNo]
            )
            let guardRow = try Row.fetchOne(
                db,
                sql: "SELECT failures, locked_until, lock_level FROM sign_in_guards WHERE card_no = ?",
                arguments: [cardNo]
            )
            guard account != nil || guardRow != nil else { return nil }
            return HolderAccountStatus(
                activationIssuedAt: account?[0],
                activatedAt: account?[1],
                failedAttempts: guardRow?[0] ?? 0,
                lockedUntil: guardRow?[1],
                lockLevel: guardRow?[2] ?? 0
            )
        }
    }
}
