import Synchronization
import YongjunCore

/// Codes whose signature this server has already checked (or that it signed itself), by their exact text.
///
/// An Ed25519 verify costs ~65 µs; a dictionary hit costs well under one. Identical bytes carry an identical,
/// already-proven signature, so a hit is as good as a verify. Entries leave once their code has expired.
public final class AuthenticatedCodeCache: Sendable {
    private struct State {
        var entries: [String: CodeVerifier.Authenticated] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int

    public init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    public func lookup(_ token: String) -> CodeVerifier.Authenticated? {
        state.withLock { $0.entries[token] }
    }

    public func insert(_ token: String, _ authenticated: CodeVerifier.Authenticated, nowSeconds: Int) {
        state.withLock { state in
            if state.entries.count >= capacity {
                state.entries = state.entries.filter { $0.value.claims.exp > nowSeconds - 3600 }
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            }
            state.entries[token] = authenticated
        }
    }

    /// Forgets everything, e.g. after the key set changed.
    public func removeAll() {
        state.withLock { $0.entries.removeAll() }
    }
}
