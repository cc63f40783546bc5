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
    /// Rows written per write transaction by an import: each holds SQLite's single write lock for a few
    /// milliseconds, so shops' verifications (which need that lock for every group commit) wait at most that.
    static let importChunk = 40

    /// Inserts new cards and updates changed ones, keyed on the card number.
    ///
    /// The file was validated whole before this is called (all rows or none); the changes are worked out from one
    /// read of the register and then written in short transactions, the audit entry with the last one. An import
    /// cut short (a crash) is completed by running it again: rows already written are unchanged the second time.
    /// Only the imported fields are written, so a revocation made meanwhile is never undone. `dryRun` writes nothing.
    public func importCards(
        _ cards: [ImportedCard],
        hasher: IDNumberHasher,
        now: Date,
        dryRun: Bool = false,
        audit: AuditContext? = nil,
        source: String = ""
    ) throws -> CardImportSummary {
        defer { registerCache.invalidate() }
        let existing = try dbWriter.read { db in
            // One read of the register instead of a query per row (the bureau's file has ~10^4 rows).
            Dictionary(try Card.fetchAll(db).map { ($0.cardNo, $0) }, uniquingKeysWith: { first, _ in first })
        }
        var summary = CardImportSummary()
        var changes: [Card] = []
        let stamp = Timestamp.iso(now)
        var generator = SystemRandomNumberGenerator()
        var statusIndexes = StatusIndexAllocator(taken: existing.values.compactMap(\.statusIdx), cards: existing.count + cards.count)
        for imported in cards {
            var card =
                existing[imported.cardNo]
                ?? Card(
                    id: RandomText.base32(count: 16, using: &generator),
                    cardNo: imported.cardNo,
                    name: "",
                    idNumberHash: "",
                    category: imported.category,
                    validUntil: "",
                    phone: nil,
                    status: "active",
                    revokedAt: nil,
                    revokeReason: nil,
                    createdAt: stamp,
                    updatedAt: stamp,
                    statusIdx: nil,
                    disabilityGrade: nil
                )
            let before = existing[imported.cardNo]
            card.name = imported.name
            card.idNumberHash = hasher.hash(imported.idNumber)
            card.category = imported.category
            card.validUntil = imported.validUntil.description
            card.phone = imported.phone
            card.disabilityGrade = imported.disabilityGrade
            if card.statusIdx == nil { card.statusIdx = statusIndexes.next(using: &generator) }
            if before == nil {
                summary.inserted += 1
            } else if card == before {
                summary.unchanged += 1
                continue
            } else {
                card.updatedAt = stamp
                summary.updated += 1
            }
            changes.append(card)
        }
        guard !dryRun else { return summary }
        let chunks = stride(from: 0, to: max(changes.count, 1), by: Self.importChunk).map { changes[$0..<min($0 + Self.importChunk, changes.count)] }
        for (index, chunk) in chunks.enumerated() {
            // A pause between chunks lets a waiting writer (the server's next verification group) take its turn.
            if index > 0 { usleep(2000) }
            try dbWriter.write { db in
                for card in chunk { try Self.upsertImported(card, db) }
                if index == chunks.count - 1, let audit {
                    let details = [
                        "file": source, "inserted": "\(summary.inserted)", "updated": "\(summary.updated)", "unchanged": "\(summary.unchanged)",
                    ]
                    try appendAudit(db, audit, AuditNote(action: "cards.import", subject: source, details: details), now: now)
                }
            }
        }
        if let failure = audit?.takeSealFailure() { throw failure }
        return summary
    }

    /// Writes a card's imported fields; a new card is inserted, an existing one keeps its status and revocation.
    private static func upsertImported(_ card: Card, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO cards (id, card_no, name, id_number_hash, category, valid_until, phone, status, created_at, updated_at, status_idx,
                    disability_grade)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)
                ON CONFLICT (card_no) DO UPDATE SET name = excluded.name, id_number_hash = excluded.id_number_hash,
                    category = excluded.category, valid_until = excluded.valid_until, phone = excluded.phone,
                    updated_at = excluded.updated_at, status_idx = coalesce(cards.status_idx, excluded.status_idx),
                    disability_grade = excluded.disability_grade
                """
        ).execute(arguments: [
            card.id, card.cardNo, card.name, card.idNumberHash, card.category.rawValue, card.validUntil, card.phone, card.createdAt,
            card.updatedAt, card.statusIdx, card.disabilityGrade,
        ])
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
