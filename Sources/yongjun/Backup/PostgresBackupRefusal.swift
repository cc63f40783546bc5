import Foundation
import YongjunCore
import YongjunPostgres

/// `backup` and `restore` copy the SQLite file; with the register in PostgreSQL they would save or replace the
/// wrong thing, so they stop and say which tools do it.
enum PostgresBackupRefusal {
    /// Throws when a PostgreSQL store is named: `backup` or `restore` (`command`) would not touch it. `keysPath` is
    /// the data directory's key folder, for the example.
    static func refuseIfNamed(_ command: String, databaseURL: String?, keysPath: String) throws {
        guard let named = databaseURL else { return }
        // The URL is shown redacted; the examples use the variable, so no password lands in a terminal's history.
        let shown = (try? PostgresURL(named).redacted) ?? "YONGJUN_DATABASE"
        throw CLIFailure(
            message: "`yongjun \(command)` works on the SQLite file only, and the register is in PostgreSQL (\(shown)): use pg_dump / pg_restore",
            details: [
                "back up the PostgreSQL store with pg_dump in its custom format, and restore it with pg_restore, e.g.:",
                "  pg_dump -Fc -f yongjun-$(date +%F).dump \"$YONGJUN_DATABASE\"",
                "  pg_restore --clean --if-exists --single-transaction -d \"$YONGJUN_DATABASE\" yongjun-2026-11-29.dump",
                "the key files are not in the database: back them up by copying the data directory's keys/ folder, e.g.",
                "  cp -a \(keysPath) /var/backups/yongjun/keys-$(date +%F)",
            ]
        )
    }
}
