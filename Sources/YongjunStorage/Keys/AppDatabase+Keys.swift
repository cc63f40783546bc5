import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Creates a signing key and its audit entry together (`keys.init` for the first, `keys.rotate` after): the key
    /// file is written inside the entry's transaction and removed if the transaction does not commit. A key file
    /// left by a crash between the two has no entry, and `audit verify` names it.
    /// `first` is `keys init` (run `KeyStore.prepare()` before, for the audit key); otherwise `keys rotate`.
    public func addSigningKey(to store: KeyStore, first: Bool, now: Date, audit: AuditContext) throws -> SigningKey {
        if first {
            try store.prepare()
        } else if !store.isInitialized {
            throw KeyStoreError.notInitialized(store.path)
        }
        var generator = SystemRandomNumberGenerator()
        let key = SigningKey.generate(now: now, using: &generator)
        do {
            try dbWriter.write { db in
                try appendAudit(db, audit, AuditNote(action: first ? "keys.init" : "keys.rotate", subject: key.kid), now: now)
                try store.save(key)
            }
        } catch {
            store.discard(key.kid)
            throw error
        }
        if let failure = audit.takeSealFailure() { throw failure }
        return key
    }
}

extension AppDatabase {
    /// Key ids that `keys init` and `keys rotate` entries name; a key file outside this set was never audited.
    public func auditedSigningKeyIDs() throws -> Set<String> {
        try dbWriter.read { db in
            Set(try String.fetchAll(db, sql: "SELECT subject FROM audit_log WHERE action IN ('keys.init', 'keys.rotate')"))
        }
    }
}
