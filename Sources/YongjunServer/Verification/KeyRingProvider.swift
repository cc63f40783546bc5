import Foundation
import Synchronization
import YongjunCore
import YongjunStorage

/// The signing keys the server verifies with, re-read from the key folder when a code names a `kid` it
/// does not know yet (the CLI may have rotated keys while the server runs), at most once a second.
public final class KeyRingProvider: Sendable {
    private struct State {
        var ring: KeyRing
        var verifier: CodeVerifier
        var lastReload: Date
    }

    private let store: KeyStore
    private let state: Mutex<State>
    /// What shops know holders by (see `HolderPseudonyms`).
    public let pseudonyms: HolderPseudonyms

    public init(store: KeyStore, issuer: String, now: Date) throws {
        self.store = store
        let ring = try store.loadKeyRing()
        self.pseudonyms = try store.holderPseudonyms()
        self.state = Mutex(State(ring: ring, verifier: CodeVerifier(keyRing: ring, issuer: issuer), lastReload: now))
    }

    public var verifier: CodeVerifier { state.withLock { $0.verifier } }
    /// The keys themselves: the current one signs codes, the status list and snapshots.
    public var keyRing: KeyRing { state.withLock { $0.ring } }

    /// Reloads the key files if the last reload is over a second old; true when the set of keys changed.
    public func reloadIfStale(now: Date) -> Bool {
        let due = state.withLock { state -> Bool in
            guard now.timeIntervalSince(state.lastReload) >= 1 else { return false }
            state.lastReload = now
            return true
        }
        guard due, let ring = try? store.loadKeyRing() else { return false }
        return state.withLock { state in
            guard ring.keys.map(\.kid) != state.ring.keys.map(\.kid) else { return false }
            state.ring = ring
            state.verifier = CodeVerifier(keyRing: ring, issuer: state.verifier.issuer)
            return true
        }
    }
}
