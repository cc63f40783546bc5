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
        migrator.registerMigration("v2 batches, applications, audit log") { db in
            try db.execute(
                sql: """
                    CREATE TABLE batches (
                        number INTEGER PRIMARY KEY AUTOINCREMENT,
                        opened_on TEXT NOT NULL,
                        closed_on TEXT,
                        meeting_date TEXT,
                        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
                    );

                    CREATE TABLE applications (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        batch_number INTEGER NOT NULL REFERENCES batches(number),
                        shop_name TEXT NOT NULL,
                        credit_code TEXT NOT NULL,
                        industry TEXT NOT NULL,
                        address TEXT NOT NULL,
                        contact TEXT NOT NULL,
                        phone TEXT NOT NULL,
                        benefit TEXT NOT NULL,
                        stage TEXT NOT NULL DEFAULT 'materials'
                            CHECK (stage IN ('materials', 'qualification', 'inspection', 'discussion', 'approved', 'rejected')),
                        rejected_at_stage TEXT,
                        reject_reason TEXT,
                        merchant_id INTEGER REFERENCES merchants(id),
                        created_at TEXT NOT NULL,
                        updated_at TEXT NOT NULL,
                        UNIQUE (batch_number, credit_code)
                    );
                    CREATE INDEX applications_credit_code ON applications(credit_code);

                    CREATE TABLE application_events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        application_id INTEGER NOT NULL REFERENCES applications(id),
                        from_stage TEXT,
                        to_stage TEXT NOT NULL,
                        note TEXT,
                        operator TEXT NOT NULL,
                        at TEXT NOT NULL
                    );
                    CREATE INDEX application_events_application ON application_events(application_id);

                    ALTER TABLE merchants ADD COLUMN credit_code TEXT;
                    ALTER TABLE merchants ADD COLUMN contact TEXT;
                    ALTER TABLE merchants ADD COLUMN phone TEXT;
                    ALTER TABLE merchants ADD COLUMN batch_number INTEGER REFERENCES batches(number);
                    ALTER TABLE merchants ADD COLUMN application_id INTEGER REFERENCES applications(id);
                    ALTER TABLE merchants ADD COLUMN status_reason TEXT;
                    ALTER TABLE merchants ADD COLUMN status_changed_at TEXT;
                    CREATE INDEX merchants_credit_code ON merchants(credit_code);

                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY,
                        at TEXT NOT NULL,
                        operator TEXT NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        details TEXT NOT NULL,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v3 holder accounts and sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE holder_accounts (
                        card_id TEXT PRIMARY KEY REFERENCES cards(id),
                        activation_hash TEXT,
                        activation_issued_at TEXT,
                        pin_hash TEXT,
                        activated_at TEXT,
                        failed_attempts INTEGER NOT NULL DEFAULT 0,
                        locked_until TEXT
                    );
                    CREATE TABLE holder_sessions (
                        token_hash TEXT PRIMARY KEY,
                        card_id TEXT NOT NULL REFERENCES cards(id),
                        created_at TEXT NOT NULL,
                        expires_at TEXT NOT NULL
                    );
                    CREATE INDEX holder_sessions_card ON holder_sessions(card_id);
                    """
            )
        }
        migrator.registerMigration("v5 backup seal, applications may share a credit code") { db in
            // A shop's credit code may now appear twice in a batch (a stranger may apply first with a real shop's
            // code); the bureau sees both and decides. SQLite cannot drop a table constraint, so the table is rebuilt.
            try db.execute(
                sql: """
                    CREATE TABLE backup_seal (
                        sealed_at TEXT NOT NULL,
                        head TEXT NOT NULL
                    );

                    CREATE TABLE applications_v5 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        batch_number INTEGER NOT NULL REFERENCES batches(number),
                        shop_name TEXT NOT NULL,
                        credit_code TEXT NOT NULL,
                        industry TEXT NOT NULL,
                        address TEXT NOT NULL,
                        contact TEXT NOT NULL,
                        phone TEXT NOT NULL,
                        benefit TEXT NOT NULL,
                        stage TEXT NOT NULL DEFAULT 'materials'
                            CHECK (stage IN ('materials', 'qualification', 'inspection', 'discussion', 'approved', 'rejected')),
                        rejected_at_stage TEXT,
                        reject_reason TEXT,
                        merchant_id INTEGER REFERENCES merchants(id),
                        created_at TEXT NOT NULL,
                        updated_at TEXT NOT NULL
                    );
                    INSERT INTO applications_v5 (id, batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage,
                        rejected_at_stage, reject_reason, merchant_id, created_at, updated_at)
                    SELECT id, batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage,
                        rejected_at_stage, reject_reason, merchant_id, created_at, updated_at
                    FROM applications;
                    DROP TABLE applications;
                    ALTER TABLE applications_v5 RENAME TO applications;
                    CREATE INDEX applications_credit_code ON applications(credit_code);
                    CREATE INDEX applications_batch_credit_code ON applications(batch_number, credit_code);
                    """
            )
        }
        return migrator
    }
}
