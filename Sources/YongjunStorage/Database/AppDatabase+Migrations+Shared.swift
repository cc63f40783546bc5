import GRDB

extension AppDatabase {
    /// State that lived in one process's memory and must be shared by every instance on a store (issue 12). Named
    /// migrations are never edited once shipped; PostgreSQL gets the same tables (YongjunPostgres).
    static func registerSharedStateMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8 short codes and guess budgets in the store") { db in
            try db.execute(
                sql: """
                    -- A 9-digit number handed out with a signed code: redeemed once (the row is deleted in the verification's
                    -- transaction, so a rollback puts it back), by any instance.
                    CREATE TABLE short_codes (
                        number TEXT PRIMARY KEY NOT NULL,
                        token TEXT NOT NULL,
                        expires_at INTEGER NOT NULL
                    );
                    CREATE INDEX short_codes_expiry ON short_codes (expires_at);

                    -- Unknown 9-digit numbers sent, for the guess budgets (per shop and all shops together, over a window).
                    CREATE TABLE short_code_misses (
                        id INTEGER PRIMARY KEY,
                        merchant_id INTEGER NOT NULL,
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX short_code_misses_at ON short_code_misses (at);
                    CREATE INDEX short_code_misses_shop ON short_code_misses (merchant_id, at);

                    -- The budgets were rebuilt from these records at start: keep the misses of the current window.
                    INSERT INTO short_code_misses (merchant_id, at)
                        SELECT merchant_id, CAST(strftime('%s', created_at) AS INTEGER) FROM verifications
                        WHERE reason = 'unknown_short_code' AND created_at >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-10 minutes')
                        ORDER BY id;
                    """
            )
        }
    }
}
