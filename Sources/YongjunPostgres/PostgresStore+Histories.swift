import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
    // MARK: Histories

    public func shopHistory(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopHistoryEntry] {
        // The month in China time (UTC+8) from the ISO text, as the SQLite store's strftime does.
        let rows = try await client.query(
            """
            SELECT v.id, v.created_at, v.card_id, c.category, c.name, v.valid, v.reason, v.eligible, v.benefit, v.offline
            FROM verifications v LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.merchant_id = \(merchantID)
                AND (\(before)::text IS NULL OR v.id < \(before))
                AND (\(month)::text IS NULL OR to_char((v.created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM') = \(month))
            ORDER BY v.id DESC LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [ShopHistoryEntry] = []
        for try await row in rows {
            let (id, createdAt, cardID, category, name, valid, reason, eligible, benefit, offline) = try row.decode(
                (String, String, String?, String?, String?, Int64, String?, Int64?, String?, Int64).self
            )
            entries.append(
                ShopHistoryEntry(
                    id: id,
                    createdAt: createdAt,
                    cardID: cardID,
                    category: category.flatMap(CardCategory.init(rawValue:)),
                    maskedName: name.map(NameMask.mask),
                    valid: valid != 0,
                    reason: reason,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit,
                    offline: offline != 0
                )
            )
        }
        return entries
    }

    public func holderHistory(cardID: String, limit: Int) async throws -> [HolderHistoryEntry] {
        let rows = try await client.query(
            """
            WITH mark AS (SELECT coalesce((SELECT value FROM service_state WHERE name = 'card_history_upto'), '') AS upto)
            SELECT v.id, v.created_at, v.merchant_id, coalesce(m.name, '?'), v.valid, v.reason, v.eligible, v.benefit
            FROM card_history h JOIN verifications v ON v.id = h.verification_id LEFT JOIN merchants m ON m.id = v.merchant_id
            WHERE h.card_id = \(cardID)
            UNION ALL
            SELECT v.id, v.created_at, v.merchant_id, coalesce(m.name, '?'), v.valid, v.reason, v.eligible, v.benefit
            FROM verifications v LEFT JOIN merchants m ON m.id = v.merchant_id, mark
            WHERE v.id > mark.upto AND v.card_id = \(cardID)
            ORDER BY 2 DESC, 1 DESC LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [HolderHistoryEntry] = []
        for try await row in rows {
            let (id, createdAt, merchantID, shop, valid, reason, eligible, benefit) = try row.decode(
                (String, String, Int64, String, Int64, String?, Int64?, String?).self
            )
            entries.append(
                HolderHistoryEntry(
                    id: id,
                    createdAt: createdAt,
                    merchantID: merchantID,
                    shopName: shop,
                    valid: valid != 0,
                    reason: reason,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit
                )
            )
        }
        return entries
    }

    public func indexCardHistory(settled: String, batch: Int) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            // One indexer at a time across instances; the others find nothing new.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.historyIndexLock))", logger: logger).collect()
            let upto =
                try await connection.query("SELECT value FROM service_state WHERE name = 'card_history_upto'", logger: logger)
                .collect().first?.decode(String.self) ?? ""
            let rows = try await connection.query(
                "SELECT id FROM verifications WHERE id > \(upto) AND id < \(settled) ORDER BY id LIMIT \(batch)",
                logger: logger
            ).collect()
            guard let lastRow = rows.last else { return 0 }
            let last = try lastRow.decode(String.self)
            try await connection.query(
                """
                INSERT INTO card_history (card_id, verification_id)
                SELECT card_id, id FROM verifications WHERE id > \(upto) AND id <= \(last) AND card_id IS NOT NULL
                ORDER BY card_id, id ON CONFLICT DO NOTHING
                """,
                logger: logger
            ).collect()
            try await connection.query(
                """
                INSERT INTO service_state (name, value) VALUES ('card_history_upto', \(last))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """,
                logger: logger
            ).collect()
            return rows.count
        }
    }

    static let historyIndexLock: Int64 = 0x594A_4849_5354  // "YJHIST"
}
