import Synchronization
import YongjunCore
import YongjunStorage

/// What this process knows has been committed: which codes each shop has used (for `already_used_here`) and the
/// answer to each client nonce (for idempotent retries). Rebuilt from the database at start.
///
/// It is only the fast path: it learns a decision after its group committed, never before, so a rolled-back
/// group leaves nothing behind; and what it does not know the database's unique indexes still decide.
final class VerificationLedger: Sendable {
    struct UseKey: Hashable {
        let merchantID: Int64
        let useKey: String
    }

    struct NonceKey: Hashable {
        let merchantID: Int64
        let nonce: String
    }

    private struct State {
        /// Uses, kept until the code has expired (Unix seconds).
        var used: [UseKey: Int] = [:]
        /// Answers by nonce, kept until the retention time (Unix seconds).
        var answers: [NonceKey: (response: String, keepUntil: Int)] = [:]
        var pruneAt = 1024
    }

    private let state = Mutex(State())

    enum Known {
        /// A retry: the answer given the first time.
        case replay(String)
        /// This shop already used the code.
        case used
        /// Nothing known in memory; the database decides.
        case unknown
    }

    /// What memory says of a request, without changing anything.
    func lookUp(merchantID: Int64, nonce: String?, useKey: String?, nowSeconds: Int) -> Known {
        state.withLock { state in
            if let nonce, let answer = state.answers[NonceKey(merchantID: merchantID, nonce: nonce)], answer.keepUntil > nowSeconds {
                return .replay(answer.response)
            }
            if let useKey, let until = state.used[UseKey(merchantID: merchantID, useKey: useKey)], until > nowSeconds { return .used }
            return .unknown
        }
    }

    /// Learns a committed record.
    func remember(_ entry: VerificationEntry, keepNonceUntil: Int, nowSeconds: Int) {
        state.withLock { state in
            Self.add(entry, keepNonceUntil: keepNonceUntil, to: &state)
            Self.pruneIfDue(&state, nowSeconds: nowSeconds)
        }
    }

    /// Restores the memory from recorded verifications (oldest first).
    func restore(_ entries: [VerificationEntry], nowSeconds: Int, keepNonceUntil: (VerificationEntry) -> Int) {
        state.withLock { state in
            for entry in entries { Self.add(entry, keepNonceUntil: keepNonceUntil(entry), to: &state) }
            Self.pruneIfDue(&state, nowSeconds: nowSeconds)
        }
    }

    private static func add(_ entry: VerificationEntry, keepNonceUntil: Int, to state: inout State) {
        if let useKey = entry.useKey, let until = entry.codeExpiresAt {
            state.used[UseKey(merchantID: entry.merchantID, useKey: useKey)] = until
        }
        if let nonce = entry.nonce {
            state.answers[NonceKey(merchantID: entry.merchantID, nonce: nonce)] = (entry.response, keepNonceUntil)
        }
    }

    /// Drops expired entries once the ledger has doubled since the last sweep: amortised O(1) per request.
    private static func pruneIfDue(_ state: inout State, nowSeconds: Int) {
        guard state.used.count + state.answers.count >= state.pruneAt else { return }
        // Remove in place: rebuilding with `filter` would copy and then immediately regrow a large table.
        for key in state.used.compactMap({ $0.value > nowSeconds ? nil : $0.key }) { state.used.removeValue(forKey: key) }
        for key in state.answers.compactMap({ $0.value.keepUntil > nowSeconds ? nil : $0.key }) { state.answers.removeValue(forKey: key) }
        state.pruneAt = max(1024, (state.used.count + state.answers.count) * 2)
    }
}
