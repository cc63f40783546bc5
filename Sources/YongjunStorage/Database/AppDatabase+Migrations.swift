import GRDB

extension AppDatabase {
    /// Shipped migrations are never edited; add a new one instead.
    ///
    /// `verifications` is written on the hot path: its ids are time-ordered (ULID), so a table clustered on the id
    /// appends at the end and serves time ranges; no secondary index, so each record touches one B-tree.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 cards, merchants, verifications") { db in
            try db.execute(
                sql: """
                    CREATE TABLE cards (
                        id TEXT PRIMARY KEY,
                        card_no TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        id_number_hash TEXT NOT NULL,
                        category TEXT NOT NULL,
                        valid_until TEXT NOT NULL,
                        phone TEXT,
                        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
                        revoked_at TEXT,
                        revoke_reason TEXT,
                        created_at TEXT NOT NULL,
                        updated_at TEXT NOT NULL
                    );
                    CREATE INDEX cards_id_number_hash ON cards(id_number_hash);

                    CREATE TABLE merchants (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL,
                        industry TEXT NOT NULL,
                        address TEXT,
                        benefit TEXT,
                        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'revoked')),
                        api_key_id TEXT UNIQUE,
                        api_key_hash TEXT,
                        api_key_issued_at TEXT,
                        created_at TEXT NOT NULL
                    );

                    CREATE TABLE verifications (
                        id TEXT NOT NULL PRIMARY KEY,
                        merchant_id INTEGER NOT NULL REFERENCES merchants(id),
                        card_id TEXT,
                        code_id TEXT,
                        key_id TEXT,
                        valid INTEGER NOT NULL,
                        reason TEXT,
                        nonce TEXT,
                        code_expires_at INTEGER,
                        created_at TEXT NOT NULL,
                        response TEXT NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }
}
