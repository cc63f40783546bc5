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

/// One checked row of an import file as the register stores it: the ID number already hashed, so the row can be
/// kept on disk between the checking pass and the writing pass (never the number itself).
public struct CardImportRow: Sendable, Equatable {
    public var cardNo: String
    public var name: String
    public var idNumberHash: String
    public var category: CardCategory
    public var validUntil: CalendarDate
    public var phone: String?
    public var disabilityGrade: Int?

    public init(
        cardNo: String,
        name: String,
        idNumberHash: String,
        category: CardCategory,
        validUntil: CalendarDate,
        phone: String?,
        disabilityGrade: Int?
    ) {
        self.cardNo = cardNo
        self.name = name
        self.idNumberHash = idNumberHash
        self.category = category
        self.validUntil = validUntil
        self.phone = phone
        self.disabilityGrade = disabilityGrade
    }

    public init(_ card: ImportedCard, hasher: IDNumberHasher) {
        self.init(
            cardNo: card.cardNo,
            name: card.name,
            idNumberHash: hasher.hash(card.idNumber),
            category: card.category,
            validUntil: card.validUntil,
            phone: card.phone,
            disabilityGrade: card.disabilityGrade
        )
    }
}

extension AppDatabase {
    /// `importCards(count:next:…)` over cards already in memory (tests, small files).
    public func importCards(
        _ cards: [ImportedCard],
        hasher: IDNumberHasher,
        now: Date,
        dryRun: Bool = false,
        audit: AuditContext? = nil,
        source: String = "",
        pacing: () -> ImportPacing = { .shared }
    ) throws -> CardImportSummary {
        var remaining = cards.makeIterator()
        return try importCards(
            count: cards.count,
            next: { remaining.next().map { CardImportRow($0, hasher: hasher) } },
            now: now,
            dryRun: dryRun,
            audit: audit,
            source: source,
            pacing: pacing
        )
    }

    public func card(number cardNo: String) throws -> Card? {
        try dbWriter.read { db in try Card.filter(Card.Columns.cardNo == cardNo).fetchOne(db) }
    }

    /// The card to issue a code for; refuses revoked and expired cards with the reason.
    public func cardForIssuing(number cardNo: String, today: CalendarDate) throws -> Card {
        try cardsForIssuing(numbers: [cardNo], today: today)[0]
    }

    /// The cards to issue codes for, in the order given, read in one transaction (10^4 cards at a time for printing
    /// runs); the first revoked, expired or unknown card refuses the lot with its reason (`Card.forIssuing`).
    public func cardsForIssuing(numbers: [String], today: CalendarDate) throws -> [Card] {
        try dbWriter.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM cards WHERE card_no = ?")
            return try Card.forIssuing(numbers: numbers, today: today) { try Card.fetchOne(statement, arguments: [$0]) }
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
