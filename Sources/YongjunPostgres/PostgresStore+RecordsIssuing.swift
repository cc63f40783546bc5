import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

/// Shops' benefit rules, receipts' records and the cards codes are issued for, on PostgreSQL.
extension PostgresStore {
    public func benefitRules(merchantID: Int64) async throws -> [BenefitRule] {
        let logger = logger
        return try await client.withConnection { connection in
            try await Self.requireMerchant(merchantID, connection: connection, logger: logger)
            return try await connection.query(Self.benefitRulesQuery(merchantID: merchantID), logger: logger).collect().map(Self.benefitRule)
        }
    }

    public func setBenefitRules(merchantID: Int64, rules: [BenefitRule], now: Date, audit: AuditContext?) async throws {
        let logger = logger
        try await audited(audit, now: now, BenefitRule.replacementNote(merchantID: merchantID, rules: rules)) { connection, _ in
            try await Self.requireMerchant(merchantID, connection: connection, logger: logger)
            try await connection.query("DELETE FROM benefit_rules WHERE merchant_id = \(merchantID)", logger: logger)
            for (position, rule) in rules.enumerated() {
                try await connection.query(
                    """
                    INSERT INTO benefit_rules (merchant_id, position, categories, benefit, once_per_day, weekdays, valid_from, valid_until)
                    VALUES (\(merchantID), \(Int64(position)), \(rule.storedCategories), \(rule.benefit), \(Int64(rule.oncePerDay ? 1 : 0)),
                        \(rule.storedWeekdays), \(rule.validFrom?.description), \(rule.validUntil?.description))
                    """,
                    logger: logger
                )
            }
        }
    }

    /// Throws `RegisterError.merchantNotFound` unless shop `id` exists.
    static func requireMerchant(_ id: Int64, connection: PostgresConnection, logger: Logger) async throws {
        guard try await connection.query("SELECT 1 FROM merchants WHERE id = \(id)", logger: logger).collect().first != nil else {
            throw RegisterError.merchantNotFound(id)
        }
    }

    public func recordedVerification(id: String) async throws -> RecordedVerification? {
        let row = try await client.query(
            """
            SELECT v.id, v.merchant_id, coalesce(m.name, '?'), v.card_id, v.created_at, v.valid, v.eligible, v.benefit
            FROM verifications v LEFT JOIN merchants m ON m.id = v.merchant_id WHERE v.id = \(id)
            """,
            logger: logger
        ).collect().first
        guard let row else { return nil }
        let (id, merchantID, shopName, cardID, createdAt, valid, eligible, benefit) = try row.decode(
            (String, Int64, String, String?, String, Int64, Int64?, String?).self
        )
        return RecordedVerification(
            id: id,
            merchantID: merchantID,
            shopName: shopName,
            cardID: cardID,
            createdAt: createdAt,
            valid: valid != 0,
            eligible: eligible.map { $0 != 0 },
            benefit: benefit
        )
    }

    public func statusListURIForCodes() async throws -> String? {
        try await client.query("SELECT value FROM service_state WHERE name = \(AppDatabase.statusListURIState)", logger: logger)
            .collect().first?.decode(String.self)
    }

    /// One query for the whole batch (10^4 cards for a printing run), then the shared rule in the order given.
    public func cardsForIssuing(numbers: [String], today: CalendarDate) async throws -> [Card] {
        var cards: [String: Card] = [:]
        let rows = try await client.query("SELECT row_to_json(cards)::text FROM cards WHERE card_no = ANY(\(Array(Set(numbers))))", logger: logger)
        for try await row in rows {
            let card = try Self.decodeRecord(Card.self, row)
            cards[card.cardNo] = card
        }
        return try Card.forIssuing(numbers: numbers, today: today) { cards[$0] }
    }
}
