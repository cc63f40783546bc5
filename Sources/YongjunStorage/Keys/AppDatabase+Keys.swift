import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Creates a signing key and its audit entry together (`keys.init` for the first, `keys.rotate` after): the key
    /// file is written inside the entry's transaction and removed if the transaction does not commit. A key file
    /// left by a crash between the two has no entry, and `audit verify` names it.
    /// `first` is `keys init` (run `KeyStore.prepare()` before, for the audit key); otherwise `keys rotate`.
    public func addSigningKey(to store: KeyStore, first: Bool, now: Date, audit: AuditContext) throws -> SigningKey {
        let (key, note) = try store.newSigningKey(first: first, now: now)
        do {
            try dbWriter.write { db in
                try appendAudit(db, audit, note, now: now)
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

extension KeyStore {
    /// A new signing key (not yet saved) and the entry that records it, whichever store keeps the entry.
    /// `first` is `keys init` (the folder is prepared, for the audit key); otherwise `keys rotate`, which needs a key.
    package func newSigningKey(first: Bool, now: Date) throws -> (key: SigningKey, note: AuditNote) {
        if first {
            try prepare()
        } else if !isInitialized {
            throw KeyStoreError.notInitialized(path)
        }
        var generator = SystemRandomNumberGenerator()
        let key = SigningKey.generate(now: now, using: &generator)
        return (key, AuditNote(action: first ? "keys.init" : "keys.rotate", subject: key.kid))
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
