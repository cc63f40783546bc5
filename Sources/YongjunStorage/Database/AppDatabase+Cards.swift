import Foundation
import GRDB
import YongjunCore

/// How an import changed the register.
public struct CardImportSummary: Sendable, Equatable, Codable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0

    public init(inserted: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
    }
}

extension AppDatabase {
    /// Inserts new cards and updates changed ones, keyed on the card number, all in one transaction.
    ///
    /// Revocation is never undone by an import. With `dryRun` the transaction is rolled back.
    public func importCards(
        _ cards: [ImportedCard],
        hasher: IDNumberHasher,
        now: Date,
        dryRun: Bool = false,
        audit: AuditContext? = nil,
        source: String = ""
    ) throws -> CardImportSummary {
        defer { registerCache.invalidate() }
        var summary = CardImportSummary()
        let stamp = Timestamp.iso(now)
        var generator = SystemRandomNumberGenerator()
        try dbWriter.writeWithoutTransaction { db in
            try db.inTransaction {
                // One read of the register instead of a query per row (the bureau's file has ~10^4 rows).
                let existing = Dictionary(try Card.fetchAll(db).map { ($0.cardNo, $0) }, uniquingKeysWith: { first, _ in first })
                for imported in cards {
                    let hash = hasher.hash(imported.idNumber)
                    if var card = existing[imported.cardNo] {
                        let before = card
                        card.name = imported.name
                        card.idNumberHash = hash
                        card.category = imported.category
                        card.validUntil = imported.validUntil.description
                        card.phone = imported.phone
                        if card == before {
                            summary.unchanged += 1
                        } else {
                            card.updatedAt = stamp
                            try card.update(db)
                            summary.updated += 1
                        }
                    } else {
                        let card = Card(
                            id: RandomText.base32(count: 16, using: &generator),
                            cardNo: imported.cardNo,
                            name: imported.name,
                            idNumberHash: hash,
                            category: imported.category,
                            validUntil: imported.validUntil.description,
                            phone: imported.phone,
                            status: "active",
                            revokedAt: nil,
                            revokeReason: nil,
                            createdAt: stamp,
                            updatedAt: stamp
                        )
                        try card.insert(db)
                        summary.inserted += 1
                    }
                }
                if dryRun { return .rollback }
                if let audit {
                    let details = [
                        "file": source, "inserted": "\(summary.inserted)", "updated": "\(summary.updated)", "unchanged": "\(summary.unchanged)",
                    ]
                    try appendAudit(db, audit, AuditNote(action: "cards.import", subject: source, details: details), now: now)
                }
                return .commit
            }
        }
        if let failure = audit?.takeSealFailure() { throw failure }
        return summary
    }

    public func card(number cardNo: String) throws -> Card? {
        try dbWriter.read { db in try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db) }
    }

    /// The card to issue a code for; refuses revoked and expired cards with the reason.
    public func cardForIssuing(number cardNo: String, today: CalendarDate) throws -> Card {
        guard let card = try card(number: cardNo) else { throw RegisterError.cardNotFound(cardNo) }
        // The same rule the verification path applies (CardStanding), so no code is issued that would be refused.
        switch card.standing?.rejection(today: today) {
        case .cardRevoked: throw RegisterError("card \(cardNo) is revoked (\(card.revokeReason ?? "no reason given")); no code can be issued")
        case .cardExpired: throw RegisterError("card \(cardNo) expired on \(card.validUntil); update valid_until by importing the renewed card")
        default: return card
        }
    }

    /// Revokes a card; codes already issued for it are refused from the next verification on.
    public func revokeCard(number cardNo: String, reason: String, now: Date, audit: AuditContext? = nil) throws {
        try write(audit: audit, now: now, AuditNote(action: "cards.revoke", subject: cardNo, details: ["reason": reason])) { db, _ in
            guard var card = try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db) else { throw RegisterError.cardNotFound(cardNo) }
            guard !card.isRevoked else { throw RegisterError("card \(cardNo) is already revoked (since \(card.revokedAt ?? "?"))") }
            card.status = "revoked"
            card.revokedAt = Timestamp.iso(now)
            card.revokeReason = reason
            card.updatedAt = Timestamp.iso(now)
            try card.update(db)
        }
    }

    public func cardCount() throws -> Int {
        try dbWriter.read { db in try Card.fetchCount(db) }
    }
}
