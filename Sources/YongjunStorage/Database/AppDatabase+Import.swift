import Foundation
import GRDB
import YongjunCore

/// How long an import holds SQLite's single write lock at a time, and how long it lets go in between.
public struct ImportPacing: Sendable, Equatable {
    public var chunk: Duration
    public var pause: Duration

    public init(chunk: Duration, pause: Duration) {
        self.chunk = chunk
        self.pause = pause
    }

    /// A server may be waiting: each of its verification groups needs the lock to commit, so hold it a few
    /// milliseconds and then step aside long enough for a waiter (polling every millisecond) to take it.
    public static let shared = ImportPacing(chunk: .milliseconds(2), pause: .milliseconds(2))
    /// Nothing waits (no server on the data directory): long transactions, few commits and checkpoints.
    /// Two seconds: well inside the ten seconds another command waits for the lock before giving up.
    public static let alone = ImportPacing(chunk: .seconds(2), pause: .zero)
    /// One transaction for the whole import: the caller is still checking the file as the rows arrive, and a bad
    /// line found late must roll every row back (`next` throws). Only when nothing waits for the lock.
    public static let whole = ImportPacing(chunk: .seconds(86_400 * 365), pause: .zero)
}

extension AppDatabase {
    /// Inserts new cards and updates changed ones, keyed on the card number, reading the cards one at a time from
    /// `next` (nil at the end), so neither the file nor the register is held in memory.
    ///
    /// The caller checked the whole file first (all rows or none); `count` is how many rows it has. Each card is
    /// compared with the register and written inside write transactions bounded in time by `pacing` (asked before each
    /// one, so an import that starts alone steps aside for a server that starts later); the audit entry commits right after
    /// the last. An import cut short (a crash, an error from `next`) is completed by running it again: rows already
    /// written are unchanged the second time. Only the imported fields are written, so a revocation is never undone.
    /// `dryRun` writes nothing.
    public func importCards(
        count: Int,
        next: () throws -> CardImportRow?,
        now: Date,
        dryRun: Bool = false,
        audit: AuditContext? = nil,
        source: String = "",
        pacing: () -> ImportPacing = { .shared }
    ) throws -> CardImportSummary {
        defer { registerCache.invalidate() }
        if dryRun {
            return try dbWriter.read { db in
                var writer = try CardImportWriter(db, count: count, stamp: Timestamp.iso(now), dryRun: true)
                while let card = try next() { try writer.take(card) }
                return writer.summary
            }
        }
        let summary = try dbWriter.writeWithoutTransaction { db in
            let clock = ContinuousClock()
            // Three of the four keys are random (id, ID-number hash, status entry), so every insert lands on three random
            // index pages: a page cache of fixed size (not growing with the file) keeps most of them in memory.
            let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -32768")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)") }
            // While a server waits, chunks commit without an fsync, so the lock is held for the rows alone (the
            // server's own commits sync the log, ours included); the last commit, with the audit entry, syncs the
            // log with every chunk before it. A power cut loses only chunks that running the import again writes.
            let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 2
            defer { try? db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            var summary = CardImportSummary()
            var pace = pacing()
            var deadline = clock.now
            func begin() throws {
                try db.execute(sql: "PRAGMA synchronous = \(pace.pause > .zero ? 1 : synchronous)")
                try db.beginTransaction(.immediate)
                deadline = clock.now + pace.chunk
            }
            do {
                try begin()
                var writer = try CardImportWriter(db, count: count, stamp: Timestamp.iso(now), dryRun: false)
                // Nothing waits and the file is large beside the register: one transaction, with the indexes on random
                // values built once at the end rather than kept up row by row (see `BulkIndexes`).
                let bulk = pace.pause == .zero && BulkIndexes.pays(adding: count, to: writer.existingCards) ? try BulkIndexes(dropping: db) : nil
                while let card = try next() {
                    try writer.take(card)
                    if bulk == nil, clock.now >= deadline {
                        try db.commit()
                        pace = pacing()
                        if pace.pause > .zero { pause(for: pace.pause) }
                        try begin()
                    }
                }
                try bulk?.rebuild(db)
                try db.commit()
                summary = writer.summary
                if let audit {
                    let details = [
                        "file": source, "inserted": "\(summary.inserted)", "updated": "\(summary.updated)", "unchanged": "\(summary.unchanged)",
                    ]
                    try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                    try db.inTransaction(.immediate) {
                        try appendAudit(db, audit, AuditNote(action: "cards.import", subject: source, details: details), now: now)
                        return .commit
                    }
                }
            } catch {
                if db.isInsideTransaction { try? db.rollback() }
                throw error
            }
            return summary
        }
        if let failure = audit?.takeSealFailure() { throw failure }
        return summary
    }
}

/// Compares and writes one imported card at a time with statements prepared once.
private struct CardImportWriter {
    private(set) var summary = CardImportSummary()
    private let db: Database
    private let stamp: String
    private let find: Statement
    private let insert: Statement?
    private let update: Statement?
    private var statusIndexes: StatusIndexMap
    /// Cards in the register before this import.
    var existingCards: Int { statusIndexes.existing }
    private var generator = BufferedRandom()
    private var ids: AscendingCardIDs

    init(_ db: Database, count: Int, stamp: String, dryRun: Bool) throws {
        self.db = db
        self.stamp = stamp
        find = try db.makeStatement(
            sql: "SELECT name, id_number_hash, category, valid_until, phone, status_idx, disability_grade FROM cards WHERE card_no = ?"
        )
        // ON CONFLICT (card_no) DO NOTHING: the unique index answers "new card?" in the same probe that inserts it.
        insert =
            dryRun
            ? nil
            : try db.makeStatement(
                sql: """
                    INSERT INTO cards (id, card_no, name, id_number_hash, category, valid_until, phone, status, created_at, updated_at,
                        status_idx, disability_grade)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?)
                    ON CONFLICT (card_no) DO NOTHING
                    """
            )
        update =
            dryRun
            ? nil
            : try db.makeStatement(
                sql: """
                    UPDATE cards SET name = ?, id_number_hash = ?, category = ?, valid_until = ?, phone = ?, updated_at = ?,
                        status_idx = coalesce(status_idx, ?), disability_grade = ?
                    WHERE card_no = ?
                    """
            )
        statusIndexes = dryRun ? StatusIndexMap(capacity: 0) : try StatusIndexMap(db, adding: count)
        ids = AscendingCardIDs(count: count)
    }

    mutating func take(_ card: CardImportRow) throws {
        let category = card.category.rawValue
        let validUntil = card.validUntil.description
        let (db, stamp) = (self.db, self.stamp)
        if let insert {
            let inserted = try withFreeStatusIndex { index, id in
                try insert.execute(arguments: [
                    id, card.cardNo, card.name, card.idNumberHash, category, validUntil, card.phone, stamp, stamp, index, card.disabilityGrade,
                ])
                return db.changesCount > 0
            }
            if inserted {
                summary.inserted += 1
                return
            }
        }
        guard let before = try Row.fetchOne(find, arguments: [card.cardNo]) else {
            summary.inserted += 1  // a dry run: the card is not there yet
            return
        }
        let name: String = before[0]
        let storedHash: String = before[1]
        let storedCategory: String = before[2]
        let storedValidUntil: String = before[3]
        let phone: String? = before[4]
        let storedIndex: Int? = before[5]
        let grade: Int? = before[6]
        let same =
            storedIndex != nil && name == card.name && storedHash == card.idNumberHash && storedCategory == category
            && storedValidUntil == validUntil && phone == card.phone && grade == card.disabilityGrade
        if same {
            summary.unchanged += 1
            return
        }
        summary.updated += 1
        guard let update else { return }
        _ = try withFreeStatusIndex { index, _ in
            try update.execute(arguments: [
                card.name, card.idNumberHash, category, validUntil, card.phone, stamp, storedIndex == nil ? index : nil, card.disabilityGrade,
                card.cardNo,
            ])
            return storedIndex == nil
        }
    }

    /// Runs `write` with a random free status-list entry until no other card holds it (the unique index is the
    /// authority: another import may have taken an entry since the map was read); `write` says if it used the entry.
    /// It also gets a fresh card id.
    private mutating func withFreeStatusIndex(_ write: (Int, String) throws -> Bool) throws -> Bool {
        while true {
            let index = statusIndexes.draw(using: &generator)
            do {
                let used = try write(index, ids.next(using: &generator))
                if used { statusIndexes.take(index) }
                return used
            } catch let error as DatabaseError
                where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE && error.message?.contains("status_idx") == true
            {
                statusIndexes.take(index)
            }
        }
    }
}
