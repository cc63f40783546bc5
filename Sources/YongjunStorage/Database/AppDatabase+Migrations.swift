import GRDB
import YongjunCore

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
        migrator.registerMigration("v4 single use and nonces in the database, sign-in guards, cashier devices") { db in
            // The database, not process memory, is the authority for "used once here" and "answered before":
            // `use_key` is what a valid verification consumed (a code id, or code id @ China day for a printed
            // credential). Live uses of existing records are carried over; expired ones cannot be used again anyway.
            try db.execute(
                sql: """
                    ALTER TABLE verifications ADD COLUMN use_key TEXT;
                    UPDATE OR IGNORE verifications
                        SET use_key = CASE
                            WHEN code_expires_at - CAST(strftime('%s', created_at) AS INTEGER) > 3600
                                THEN code_id || '@' || date(created_at, '+8 hours')
                            ELSE code_id END
                        WHERE valid = 1 AND code_id IS NOT NULL AND code_expires_at > CAST(strftime('%s', 'now') AS INTEGER);
                    CREATE UNIQUE INDEX verifications_single_use ON verifications(merchant_id, use_key) WHERE use_key IS NOT NULL;

                    CREATE TABLE verification_nonces (
                        merchant_id INTEGER NOT NULL,
                        nonce TEXT NOT NULL,
                        verification_id TEXT NOT NULL,
                        keep_until INTEGER NOT NULL,
                        PRIMARY KEY (merchant_id, nonce)
                    ) WITHOUT ROWID;
                    INSERT OR REPLACE INTO verification_nonces (merchant_id, nonce, verification_id, keep_until)
                        SELECT merchant_id, nonce, id, CAST(strftime('%s', created_at) AS INTEGER) + 86400
                        FROM verifications WHERE nonce IS NOT NULL ORDER BY id;

                    CREATE TABLE sign_in_guards (
                        card_no TEXT PRIMARY KEY,
                        failures INTEGER NOT NULL DEFAULT 0,
                        lock_level INTEGER NOT NULL DEFAULT 0,
                        locked_until TEXT
                    ) WITHOUT ROWID;
                    INSERT INTO sign_in_guards (card_no, failures, lock_level, locked_until)
                        SELECT cards.card_no, holder_accounts.failed_attempts,
                            CASE WHEN holder_accounts.locked_until IS NULL THEN 0 ELSE 1 END, holder_accounts.locked_until
                        FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id
                        WHERE holder_accounts.failed_attempts > 0 OR holder_accounts.locked_until IS NOT NULL;

                    CREATE TABLE shop_devices (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        merchant_id INTEGER NOT NULL REFERENCES merchants(id),
                        token_hash TEXT NOT NULL UNIQUE,
                        label TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        last_seen_at TEXT,
                        revoked_at TEXT
                    );
                    CREATE INDEX shop_devices_merchant ON shop_devices(merchant_id);
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
        registerOfflineAndBenefitMigrations(&migrator)
        registerSharedStateMigrations(&migrator)
        return migrator
    }
}
