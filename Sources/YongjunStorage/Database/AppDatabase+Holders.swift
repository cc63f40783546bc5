import Foundation
import GRDB
import YongjunCore

/// Why a holder could not activate or sign in; the server turns these into Chinese messages.
public enum HolderAccessError: Error, Sendable, Equatable {
    /// Card number and secret do not match (the card may not exist: we do not say which).
    case wrongCredentials(attemptsLeft: Int)
    /// Too many failures; try again after this many seconds.
    case locked(retryAfter: Int)
    case notActivated
    case alreadyActivated
    case cardNotUsable(String)
}

extension AppDatabase {
    /// Failures allowed before a lock, and how long the lock lasts.
    public static let holderMaxFailures = 5
    public static let holderLockSeconds = 15 * 60

    /// Gives a card a new one-time activation code (stored hashed); any PIN and sessions are cleared.
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
        }
    }

    /// Clears a holder's failed attempts and lock (the bureau, after checking who is asking).
    public func unlockHolder(cardNo: String, now: Date, audit: AuditContext? = nil) throws {
        try write(audit: audit, now: now, AuditNote(action: "cards.unlock", subject: cardNo)) { db, _ in
            guard let card = try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db) else { throw RegisterError.cardNotFound(cardNo) }
            try db.execute(sql: "UPDATE holder_accounts SET failed_attempts = 0, locked_until = NULL WHERE card_id = ?", arguments: [card.id])
        }
    }

    /// Checks a secret for a card number, counting failures and locking after too many; returns the card.
    /// `check` receives (activation hash, PIN hash) and says whether the secret matches.
    public func authenticateHolder(
        cardNo: String,
        now: Date,
        activating: Bool,
        check: (String?, String?) -> Bool,
        then update: (Database, Card) throws -> Void = { _, _ in }
    ) throws -> Card {
        // The slow hash runs before the write transaction: holding the write lock for it would stall verifications.
        let stored = try dbWriter.read { db -> (String?, String?)? in
            try Row.fetchOne(
                db,
                sql: "SELECT activation_hash, pin_hash FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id WHERE cards.card_no = ?",
                arguments: [cardNo]
            ).map { ($0[0], $0[1]) }
        }
        let matched = stored.map { check($0.0, $0.1) } ?? false
        return try dbWriter.write { db -> Result<Card, HolderAccessError> in
            guard let card = try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db),
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT activation_hash, pin_hash, failed_attempts, locked_until FROM holder_accounts WHERE card_id = ?",
                    arguments: [card.id]
                )
            else { return .failure(.wrongCredentials(attemptsLeft: Self.holderMaxFailures)) }
            if let lockedUntil = (row[3] as String?).flatMap(Timestamp.parse), lockedUntil > now {
                return .failure(.locked(retryAfter: Int(lockedUntil.timeIntervalSince(now).rounded(.up))))
            }
            let activationHash: String? = row[0]
            let pinHash: String? = row[1]
            if activating && pinHash != nil { return .failure(.alreadyActivated) }
            if !activating && pinHash == nil { return .failure(.notActivated) }
            // A secret changed in between (a new activation code) counts as a mismatch.
            guard matched, activationHash == stored?.0, pinHash == stored?.1 else {
                let failures: Int = row[2] + 1
                let locked = failures >= Self.holderMaxFailures
                try db.execute(
                    sql: "UPDATE holder_accounts SET failed_attempts = ?, locked_until = ? WHERE card_id = ?",
                    arguments: [
                        locked ? 0 : failures, locked ? Timestamp.iso(now.addingTimeInterval(TimeInterval(Self.holderLockSeconds))) : nil, card.id,
                    ]
                )
                return .failure(
                    locked ? .locked(retryAfter: Self.holderLockSeconds) : .wrongCredentials(attemptsLeft: Self.holderMaxFailures - failures)
                )
            }
            if card.isRevoked { return .failure(.cardNotUsable("证件已注销")) }
            try db.execute(sql: "UPDATE holder_accounts SET failed_attempts = 0, locked_until = NULL WHERE card_id = ?", arguments: [card.id])
            try update(db, card)
            return .success(card)
        }.get()
    }

    /// Sets the PIN and consumes the activation code.
    public func setHolderPIN(_ db: Database, card: Card, pinHash: String, now: Date) throws {
        try db.execute(
            sql: "UPDATE holder_accounts SET pin_hash = ?, activation_hash = NULL, activated_at = ? WHERE card_id = ?",
            arguments: [pinHash, Timestamp.iso(now), card.id]
        )
    }

    public func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) throws {
        try dbWriter.write { db in
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

    public func endHolderSession(token: String) throws {
        try dbWriter.write { db in try db.execute(sql: "DELETE FROM holder_sessions WHERE token_hash = ?", arguments: [HolderSecret.digest(token)]) }
    }
}

/// A holder's phone access as the bureau sees it.
public struct HolderAccountStatus: Sendable, Codable {
    public var activationIssuedAt: String?
    public var activatedAt: String?
    public var failedAttempts: Int
    public var lockedUntil: String?
}

extension AppDatabase {
    public func holderAccountStatus(cardID: String) throws -> HolderAccountStatus? {
        try dbWriter.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT activation_issued_at, activated_at, failed_attempts, locked_until FROM holder_accounts WHERE card_id = ?",
                arguments: [cardID]
            ).map { HolderAccountStatus(activationIssuedAt: $0[0], activatedAt: $0[1], failedAttempts: $0[2], lockedUntil: $0[3]) }
        }
    }
}
