import Foundation
import GRDB
import YongjunCore

/// One verification as a shop's own history shows it: no card number, a masked name, and the card id only for the
/// server to turn into the shop's pseudonym (it never leaves the server).
public struct ShopHistoryEntry: Sendable {
    public let id: String
    public let createdAt: String
    public let cardID: String?
    public let category: CardCategory?
    public let maskedName: String?
    public let valid: Bool
    public let reason: String?
    public let eligible: Bool?
    public let benefit: String?
    public let offline: Bool

    package init(
        id: String,
        createdAt: String,
        cardID: String?,
        category: CardCategory?,
        maskedName: String?,
        valid: Bool,
        reason: String?,
        eligible: Bool?,
        benefit: String?,
        offline: Bool
    ) {
        self.id = id
        self.createdAt = createdAt
        self.cardID = cardID
        self.category = category
        self.maskedName = maskedName
        self.valid = valid
        self.reason = reason
        self.eligible = eligible
        self.benefit = benefit
        self.offline = offline
    }
}

/// One verification as the holder's own history shows it: where, when, what came of it.
public struct HolderHistoryEntry: Sendable {
    public let id: String
    public let createdAt: String
    public let merchantID: Int64
    public let shopName: String
    public let valid: Bool
    public let reason: String?
    public let eligible: Bool?
    public let benefit: String?

    package init(id: String, createdAt: String, merchantID: Int64, shopName: String, valid: Bool, reason: String?, eligible: Bool?, benefit: String?)
    {
        self.id = id
        self.createdAt = createdAt
        self.merchantID = merchantID
        self.shopName = shopName
        self.valid = valid
        self.reason = reason
        self.eligible = eligible
        self.benefit = benefit
    }
}

/// A recorded verification, as `receipts verify` compares a receipt with it.
public struct RecordedVerification: Sendable {
    public let id: String
    public let merchantID: Int64
    public let shopName: String
    public let cardID: String?
    public let createdAt: String
    public let valid: Bool
    public let eligible: Bool?
    public let benefit: String?

    package init(
        id: String,
        merchantID: Int64,
        shopName: String,
        cardID: String?,
        createdAt: String,
        valid: Bool,
        eligible: Bool?,
        benefit: String?
    ) {
        self.id = id
        self.merchantID = merchantID
        self.shopName = shopName
        self.cardID = cardID
        self.createdAt = createdAt
        self.valid = valid
        self.eligible = eligible
        self.benefit = benefit
    }
}

extension AppDatabase {
    /// This shop's verifications, newest first, `limit` at a time before the id `before`; optionally within a
    /// China-time month `YYYY-MM`.
    public func shopHistory(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopHistoryEntry] {
        var sql = """
            SELECT v.id, v.created_at, v.card_id, c.category, c.name, v.valid, v.reason, v.eligible, v.benefit, v.offline
            FROM verifications v LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.merchant_id = ?
            """
        var arguments: StatementArguments = [merchantID]
        if let before {
            sql += " AND v.id < ?"
            arguments += [before]
        }
        if let month {
            sql += " AND strftime('%Y-%m', v.created_at, '+8 hours') = ?"
            arguments += [month]
        }
        sql += " ORDER BY v.id DESC LIMIT ?"
        arguments += [limit]
        let query = sql
        let bound = arguments
        return try await dbWriter.read { db in
            try Row.fetchAll(db, sql: query, arguments: bound).map { row in
                let category: String? = row[3]
                let name: String? = row[4]
                return ShopHistoryEntry(
                    id: row[0],
                    createdAt: row[1],
                    cardID: row[2],
                    category: category.flatMap(CardCategory.init(rawValue:)),
                    maskedName: name.map(NameMask.mask),
                    valid: row[5],
                    reason: row[6],
                    eligible: row[7],
                    benefit: row[8],
                    offline: row[9]
                )
            }
        }
    }

    /// Where and when this card was used (or tried), newest first: the indexed part (`card_history`) and the few
    /// records past the indexer's mark, read from `verifications` itself.
    public func holderHistory(cardID: String, limit: Int) async throws -> [HolderHistoryEntry] {
        try await dbWriter.read { db in
            let upto = try String.fetchOne(db, sql: "SELECT value FROM service_state WHERE name = ?", arguments: [Self.cardHistoryMark]) ?? ""
            let columns = "v.id, v.created_at, v.merchant_id, coalesce(m.name, '?'), v.valid, v.reason, v.eligible, v.benefit"
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT \(columns) FROM card_history h JOIN verifications v ON v.id = h.verification_id
                        LEFT JOIN merchants m ON m.id = v.merchant_id WHERE h.card_id = ?
                    UNION ALL
                    SELECT \(columns) FROM verifications v LEFT JOIN merchants m ON m.id = v.merchant_id WHERE v.id > ? AND v.card_id = ?
                    ORDER BY 2 DESC, 1 DESC LIMIT ?
                    """,
                arguments: [cardID, upto, cardID, limit]
            ).map { row in
                HolderHistoryEntry(
                    id: row[0],
                    createdAt: row[1],
                    merchantID: row[2],
                    shopName: row[3],
                    valid: row[4],
                    reason: row[5],
                    eligible: row[6],
                    benefit: row[7]
                )
            }
        }
    }

    static let cardHistoryMark = "card_history_upto"

    /// Files up to `batch` verifications older than `settled` (a record id lower bound: every group with an earlier
    /// id has committed by then) into `card_history`, sorted by card so the inserts touch few pages, and moves the
    /// mark. Returns how many records it looked at.
    public func indexCardHistory(settled: String, batch: Int = 20_000) async throws -> Int {
        try await dbWriter.write { db in
            let upto = try String.fetchOne(db, sql: "SELECT value FROM service_state WHERE name = ?", arguments: [Self.cardHistoryMark]) ?? ""
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, card_id FROM verifications WHERE id > ? AND id < ? ORDER BY id LIMIT ?",
                arguments: [upto, settled, batch]
            )
            guard let last: String = rows.last?[0] else { return 0 }
            let pairs = rows.compactMap { row -> (String, String)? in
                guard let card: String = row[1] else { return nil }
                return (card, row[0])
            }.sorted { $0 < $1 }
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO card_history (card_id, verification_id) VALUES (?, ?)")
            for (card, id) in pairs { try insert.execute(arguments: [card, id]) }
            try db.execute(
                sql: "INSERT INTO service_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                arguments: [Self.cardHistoryMark, last]
            )
            return rows.count
        }
    }

    /// The record a receipt names, if there is one.
    public func recordedVerification(id: String) throws -> RecordedVerification? {
        try dbWriter.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT v.id, v.merchant_id, coalesce(m.name, '?'), v.card_id, v.created_at, v.valid, v.eligible, v.benefit
                    FROM verifications v LEFT JOIN merchants m ON m.id = v.merchant_id WHERE v.id = ?
                    """,
                arguments: [id]
            ).map { row in
                RecordedVerification(
                    id: row[0],
                    merchantID: row[1],
                    shopName: row[2],
                    cardID: row[3],
                    createdAt: row[4],
                    valid: row[5],
                    eligible: row[6],
                    benefit: row[7]
                )
            }
        }
    }
}
