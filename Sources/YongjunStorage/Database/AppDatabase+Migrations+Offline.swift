import GRDB
import YongjunCore

extension AppDatabase {
    /// Issues 10 and 11: status-list entries and offline records (v6), benefit rules and the records each side
    /// keeps (v7). Shipped migrations are never edited; add a new one instead.
    static func registerOfflineAndBenefitMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6 status list indexes, offline records, service state") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cards ADD COLUMN status_idx INTEGER;
                    CREATE UNIQUE INDEX cards_status_idx ON cards(status_idx);

                    ALTER TABLE verifications ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE verifications ADD COLUMN device_result TEXT;
                    ALTER TABLE verifications ADD COLUMN conflict TEXT;
                    ALTER TABLE verifications ADD COLUMN received_at TEXT;
                    CREATE UNIQUE INDEX verifications_offline_nonce ON verifications(merchant_id, nonce) WHERE offline = 1;

                    CREATE TABLE service_state (
                        name TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
            // Every card present gets its random entry now; cards imported later get theirs on import.
            let ids = try String.fetchAll(db, sql: "SELECT id FROM cards ORDER BY id")
            var allocator = StatusIndexAllocator(taken: [], cards: ids.count)
            var generator = SystemRandomNumberGenerator()
            let update = try db.makeStatement(sql: "UPDATE cards SET status_idx = ? WHERE id = ?")
            for id in ids { try update.execute(arguments: [allocator.next(using: &generator), id]) }
        }
        migrator.registerMigration("v7 disabled servicemen, benefit rules, benefits on verifications") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cards ADD COLUMN disability_grade INTEGER CHECK (disability_grade BETWEEN 1 AND 10);

                    CREATE TABLE benefit_rules (
                        merchant_id INTEGER NOT NULL REFERENCES merchants(id),
                        position INTEGER NOT NULL,
                        categories TEXT,
                        benefit TEXT NOT NULL,
                        once_per_day INTEGER NOT NULL DEFAULT 0,
                        weekdays TEXT,
                        valid_from TEXT,
                        valid_until TEXT,
                        PRIMARY KEY (merchant_id, position)
                    ) WITHOUT ROWID;
                    -- Each approved shop's 优惠内容 becomes its first rule, for every holder.
                    INSERT INTO benefit_rules (merchant_id, position, benefit)
                        SELECT id, 0, benefit FROM merchants WHERE benefit IS NOT NULL AND trim(benefit) != '';

                    ALTER TABLE verifications ADD COLUMN eligible INTEGER;
                    ALTER TABLE verifications ADD COLUMN benefit TEXT;
                    ALTER TABLE verifications ADD COLUMN benefit_rule INTEGER;

                    -- A once-a-day benefit given: written only for such rules, so the daily limit costs every other
                    -- verification nothing (an index on verifications by card would cost each one a random insert).
                    CREATE TABLE benefit_grants (
                        merchant_id INTEGER NOT NULL,
                        card_id TEXT NOT NULL,
                        day TEXT NOT NULL,
                        rule INTEGER NOT NULL,
                        verification_id TEXT NOT NULL,
                        PRIMARY KEY (merchant_id, card_id, day, rule)
                    ) WITHOUT ROWID;

                    -- Each card's verifications for its holder's history, filled in batches off the verification path
                    -- (HistoryIndexer); rows past service_state 'card_history_upto' are read from verifications itself.
                    CREATE TABLE card_history (
                        card_id TEXT NOT NULL,
                        verification_id TEXT NOT NULL,
                        PRIMARY KEY (card_id, verification_id)
                    ) WITHOUT ROWID;
                    """
            )
        }
    }
}
