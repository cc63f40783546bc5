import Foundation
import Logging
import NIOCore
import PostgresNIO
import YongjunCore
import YongjunStorage

/// `cards import` into PostgreSQL: the checked rows stream through `COPY` into a temporary table, then one UPDATE
/// (cards whose imported fields changed) and one INSERT (new cards) move them into `cards`, in one transaction with
/// the audit entry. Nothing is held in memory but a chunk of rows and the status-list bitmap. Verifications are
/// not held up: they only read cards, and PostgreSQL lets them read the committed register meanwhile.
extension PostgresStore {
    public func importCards(
        count: Int,
        next: () throws -> CardImportRow?,
        now: Date,
        dryRun: Bool,
        audit: AuditContext?,
        source: String,
        pacing: () -> ImportPacing
    ) async throws -> CardImportSummary {
        let logger = logger
        let stamp = Timestamp.iso(now)
        let note = AuditNote(action: "cards.import", subject: source)
        do {
            return try await audited(dryRun ? nil : audit, now: now, note) { connection, note in
                // One import at a time: the first-load path below relies on the register staying empty meanwhile.
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.importLock))", logger: logger)
                var (indexes, existing) = try await Self.statusIndexes(connection, adding: count, logger: logger)
                var generator = SystemRandomNumberGenerator()
                var ids = AscendingCardIDs(count: count)
                if existing == 0, !dryRun {
                    let inserted = try await Self.firstLoad(connection, logger: logger) {
                        try await Self.copyRows(
                            connection,
                            into: "cards",
                            columns: [
                                "id", "card_no", "name", "id_number_hash", "category", "valid_until", "phone", "status", "created_at",
                                "updated_at", "status_idx", "disability_grade",
                            ],
                            logger: logger,
                            next: next
                        ) { card in
                            [
                                ids.next(using: &generator), card.cardNo, card.name, card.idNumberHash, card.category.rawValue,
                                card.validUntil.description, card.phone, "active", stamp, stamp, String(indexes.drawAndTake(using: &generator)),
                                card.disabilityGrade.map(String.init),
                            ]
                        }
                    }
                    let summary = CardImportSummary(inserted: inserted, updated: 0, unchanged: 0)
                    note.details = ["file": source, "inserted": "\(inserted)", "updated": "0", "unchanged": "0"]
                    return summary
                }
                try await connection.query(
                    """
                    CREATE TEMP TABLE card_import (
                        card_no TEXT NOT NULL, name TEXT NOT NULL, id_number_hash TEXT NOT NULL, category TEXT NOT NULL,
                        valid_until TEXT NOT NULL, phone TEXT, disability_grade BIGINT, id TEXT NOT NULL, status_idx BIGINT NOT NULL
                    ) ON COMMIT DROP
                    """,
                    logger: logger
                )
                _ = try await Self.copyRows(
                    connection,
                    into: "card_import",
                    columns: ["card_no", "name", "id_number_hash", "category", "valid_until", "phone", "disability_grade", "id", "status_idx"],
                    logger: logger,
                    next: next
                ) { card in
                    [
                        card.cardNo, card.name, card.idNumberHash, card.category.rawValue, card.validUntil.description, card.phone,
                        card.disabilityGrade.map(String.init), ids.next(using: &generator), String(indexes.drawAndTake(using: &generator)),
                    ]
                }
                let imported = try await connection.query("SELECT count(*) FROM card_import", logger: logger).collect().first?.decode(Int64.self) ?? 0
                // Only the imported fields are written, so a revocation is never undone; an entry is given once.
                let updated =
                    try await connection.query(
                        """
                        WITH changed AS (
                            UPDATE cards c SET name = i.name, id_number_hash = i.id_number_hash, category = i.category,
                                valid_until = i.valid_until, phone = i.phone, updated_at = \(stamp),
                                status_idx = coalesce(c.status_idx, i.status_idx), disability_grade = i.disability_grade
                            FROM card_import i
                            WHERE c.card_no = i.card_no AND (c.status_idx IS NULL OR c.name <> i.name OR c.id_number_hash <> i.id_number_hash
                                OR c.category <> i.category OR c.valid_until <> i.valid_until OR c.phone IS DISTINCT FROM i.phone
                                OR c.disability_grade IS DISTINCT FROM i.disability_grade)
                            RETURNING 1
                        )
                        SELECT count(*) FROM changed
                        """,
                        logger: logger
                    ).collect().first?.decode(Int64.self) ?? 0
                let inserted =
                    try await connection.query(
                        """
                        WITH added AS (
                            INSERT INTO cards (id, card_no, name, id_number_hash, category, valid_until, phone, status, created_at, updated_at,
                                status_idx, disability_grade)
                            SELECT id, card_no, name, id_number_hash, category, valid_until, phone, 'active', \(stamp), \(stamp), status_idx,
                                disability_grade
                            FROM card_import ON CONFLICT (card_no) DO NOTHING
                            RETURNING 1
                        )
                        SELECT count(*) FROM added
                        """,
                        logger: logger
                    ).collect().first?.decode(Int64.self) ?? 0
                let summary = CardImportSummary(
                    inserted: Int(inserted),
                    updated: Int(updated),
                    unchanged: Int(imported - inserted - updated)
                )
                note.details = [
                    "file": source, "inserted": "\(summary.inserted)", "updated": "\(summary.updated)", "unchanged": "\(summary.unchanged)",
                ]
                // A dry run computed the same statements, then throws to roll them back.
                if dryRun { throw DryRunRollback(summary: summary) }
                return summary
            }
        } catch let rollback as DryRunRollback {
            return rollback.summary
        }
    }

    static let importLock: Int64 = 0x594A_494D_504F_5254  // "YJIMPORT"

    /// The register is empty (a city's or a province's first import): the rows go straight into `cards` through
    /// COPY, with the two indexes on random values (the ID-number hash, the status-list entry) dropped first and
    /// built again, sorted, before the commit — a million rows took 15 s with them kept up row by row against 2 s to
    /// build them after. DROP INDEX locks `cards` until the commit; with no card yet there is nothing to verify.
    /// A failure or a refused file rolls the drop back with the rows. The card number and card id keep their
    /// (constraint) indexes; ids that grow with the file (`AscendingCardIDs`) append to theirs.
    static func firstLoad(_ connection: PostgresConnection, logger: Logger, copy: () async throws -> Int) async throws -> Int {
        let rebuilt = ["cards_id_number_hash", "cards_status_idx"]
        var definitions: [String] = []
        let found = try await connection.query(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'cards'",
            logger: logger
        )
        for try await (name, definition) in found.decode((String, String).self) where rebuilt.contains(name) {
            definitions.append(definition)
            try await connection.query(PostgresQuery(unsafeSQL: "DROP INDEX \(name)"), logger: logger)  // a name of ours, not input
        }
        let inserted = try await copy()
        for definition in definitions { try await connection.query(PostgresQuery(unsafeSQL: definition), logger: logger) }
        return inserted
    }

    /// Streams the checked rows into `table` through COPY, 5,000 rows a message; returns how many.
    static func copyRows(
        _ connection: PostgresConnection,
        into table: String,
        columns: [String],
        logger: Logger,
        next: () throws -> CardImportRow?,
        fields: (CardImportRow) -> [String?]
    ) async throws -> Int {
        var total = 0
        try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
            var text = ""
            var rows = 0
            while let card = try next() {
                for (position, field) in fields(card).enumerated() {
                    if position > 0 { text += "\t" }
                    PostgresCopy.appendCopyField(field, to: &text)
                }
                text += "\n"
                rows += 1
                if rows == 5000 {
                    try await writer.write(ByteBuffer(string: text))
                    text = ""
                    total += rows
                    rows = 0
                }
            }
            if rows > 0 { try await writer.write(ByteBuffer(string: text)) }
            total += rows
        }
        return total
    }

    /// Which status-list entries the register holds, sized for it plus `adding` cards; and how many cards it has.
    static func statusIndexes(_ connection: PostgresConnection, adding: Int, logger: Logger) async throws -> (StatusIndexBitmap, Int) {
        let totals = try await connection.query("SELECT count(*), coalesce(max(status_idx), -1) FROM cards", logger: logger).collect().first
        var (cards, highest): (Int64, Int64) = (0, -1)
        if let totals { (cards, highest) = try totals.decode((Int64, Int64).self) }
        var indexes = StatusIndexBitmap(existing: Int(cards), highest: Int(highest), adding: adding)
        let rows = try await connection.query("SELECT status_idx FROM cards WHERE status_idx IS NOT NULL", logger: logger)
        for try await index in rows.decode(Int64.self) { indexes.take(Int(index)) }
        return (indexes, Int(cards))
    }

}

/// A dry run's result, carried out of the transaction it rolls back.
private struct DryRunRollback: Error {
    let summary: CardImportSummary
}

extension StatusIndexBitmap {
    /// A free entry, marked taken at once: the COPY writes every row it draws for.
    fileprivate mutating func drawAndTake(using generator: inout some RandomNumberGenerator) -> Int {
        let index = draw(using: &generator)
        take(index)
        return index
    }
}
