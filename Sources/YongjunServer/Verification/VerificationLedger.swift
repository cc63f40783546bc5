import Synchronization
import YongjunCore
import YongjunStorage

/// In-memory memory of what has been answered: which codes each shop has accepted (for `already_used_here`)
/// and the answer to each client nonce (for idempotent retries). Rebuilt from the database at start.
///
/// Every decision that reads and updates it happens under one lock, so two racing requests cannot both win.
final class VerificationLedger: Sendable {
    struct UseKey: Hashable {
        let merchantID: Int64
        let codeID: String
    }

    struct NonceKey: Hashable {
        let merchantID: Int64
        let nonce: String
    }

    private struct State {
        /// Code uses, kept until the code has expired.
        var used: [UseKey: (until: Int, verificationID: String)] = [:]
        /// Answers by nonce, kept until the retention time (Unix seconds).
        var answers: [NonceKey: (response: String, keepUntil: Int, verificationID: String)] = [:]
        var pruneAt = 1024
    }

    private let state = Mutex(State())

    enum Decision {
        /// A retry: the answer given the first time.
        case replay(String)
        /// A new request, answered with this body.
        case fresh(String, VerificationReason?)
    }

    /// Decides a request: replays a known nonce, else applies `reason` (or `already_used_here`) and remembers it.
    func decide(
        verificationID: String,
        merchantID: Int64,
        nonce: String?,
        use: (codeID: String, until: Int)?,
        reason: VerificationReason?,
        nowSeconds: Int,
        nonceRetention: Int,
        respond: (VerificationReason?) -> String
    ) -> Decision {
        state.withLock { state in
            let nonceKey = nonce.map { NonceKey(merchantID: merchantID, nonce: $0) }
            if let nonceKey, let answer = state.answers[nonceKey] { return .replay(answer.response) }
            var reason = reason
            if reason == nil, let use {
                let key = UseKey(merchantID: merchantID, codeID: use.codeID)
                if let previous = state.used[key], previous.until > nowSeconds {
                    reason = .alreadyUsedHere
                } else {
                    state.used[key] = (use.until, verificationID)
                }
            }
            let response = respond(reason)
            if let nonceKey { state.answers[nonceKey] = (response, nowSeconds + nonceRetention, verificationID) }
            Self.pruneIfDue(&state, nowSeconds: nowSeconds)
            return .fresh(response, reason)
        }
    }

    /// Undoes a decision whose record could not be written, so the shop can simply try again.
    func forget(verificationID: String, merchantID: Int64, nonce: String?, codeID: String?) {
        state.withLock { state in
            if let nonce, state.answers[NonceKey(merchantID: merchantID, nonce: nonce)]?.verificationID == verificationID {
                state.answers[NonceKey(merchantID: merchantID, nonce: nonce)] = nil
            }
            if let codeID, state.used[UseKey(merchantID: merchantID, codeID: codeID)]?.verificationID == verificationID {
                state.used[UseKey(merchantID: merchantID, codeID: codeID)] = nil
            }
        }
    }

    /// Restores the memory from recorded verifications (oldest first).
    func restore(_ entries: [VerificationEntry], nowSeconds: Int, nonceRetention: Int, createdSeconds: (VerificationEntry) -> Int) {
        state.withLock { state in
            for entry in entries {
                if entry.valid, let codeID = entry.codeID, let until = entry.codeExpiresAt, until > nowSeconds {
                    state.used[UseKey(merchantID: entry.merchantID, codeID: codeID)] = (until, entry.id)
                }
                if let nonce = entry.nonce {
                    let key = NonceKey(merchantID: entry.merchantID, nonce: nonce)
                    if state.answers[key] == nil {
                        state.answers[key] = (entry.response, createdSeconds(entry) + nonceRetention, entry.id)
                    }
                }
            }
            state.pruneAt = max(1024, (state.used.count + state.answers.count) * 2)
        }
    }

    /// Drops expired entries once the ledger has doubled since the last sweep: amortised O(1) per request.
    private static func pruneIfDue(_ state: inout State, nowSeconds: Int) {
        guard state.used.count + state.answers.count >= state.pruneAt else { return }
        // Remove in place: rebuilding with `filter` would copy and then immediately regrow a large table.
        for key in state.used.compactMap({ $0.value.until > nowSeconds ? nil : $0.key }) { state.used.removeValue(forKey: key) }
        for key in state.answers.compactMap({ $0.value.keepUntil > nowSeconds ? nil : $0.key }) { state.answers.removeValue(forKey: key) }
        state.pruneAt = max(1024, (state.used.count + state.answers.count) * 2)
    }
}
