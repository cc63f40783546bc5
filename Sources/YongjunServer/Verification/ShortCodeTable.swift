import Foundation
import Synchronization
import YongjunCore

/// The 9-digit codes this server handed out with signed codes: each stands for its signed code until that
/// expires or is used once, and the guess budgets that keep 10^9 numbers out of reach of guessing.
///
/// A shop may get `perShopLimit` unknown numbers wrong in `window` seconds, and all shops together
/// `globalLimit` (so many stolen keys cannot sweep the space). A number is only looked at after a guess was
/// reserved from both budgets, under the same lock, so no burst can evaluate more than the budget allows.
final class ShortCodeTable: Sendable {
    private struct Entry {
        let token: String
        let expires: Int
    }

    private struct State {
        var codes: [String: Entry] = [:]
        /// When each shop's misses happened (Unix seconds, oldest first), and everyone's together.
        var misses: [Int64: [Int]] = [:]
        var allMisses: [Int] = []
    }

    private let state = Mutex(State())
    let perShopLimit: Int
    let globalLimit: Int
    let window: Int

    init(perShopLimit: Int = 10, globalLimit: Int = 200, window: Int = 600) {
        self.perShopLimit = perShopLimit
        self.globalLimit = globalLimit
        self.window = window
    }

    static func looksLikeShortCode(_ code: String) -> Bool {
        (8...10).contains(code.utf8.count) && code.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// A fresh code for `token`, valid until `expires` (Unix seconds).
    func register(token: String, expires: Int, now: Int, using generator: inout some RandomNumberGenerator) -> String {
        var code = HolderSecret.shortCode(using: &generator)
        state.withLock { state in
            if state.codes.count > 10_000 { state.codes = state.codes.filter { $0.value.expires > now } }
            while state.codes[code] != nil { code = HolderSecret.shortCode(using: &generator) }
            state.codes[code] = Entry(token: token, expires: expires)
        }
        return code
    }

    enum Redemption: Equatable {
        /// The signed code behind the number; the number is used up.
        case token(String)
        /// Not a live number; counted against the budgets.
        case miss
        /// No guess left in a budget: the number was not looked at. Retry after this many seconds.
        case blocked(retryAfter: Int)
    }

    /// Reserves a guess for `merchantID`, then looks the number up; a hit gives the guess back.
    func redeem(_ code: String, merchantID: Int64, now: Int) -> Redemption {
        state.withLock { state in
            let horizon = now - window
            state.allMisses.removeFirst(state.allMisses.prefix { $0 <= horizon }.count)
            var mine = state.misses[merchantID] ?? []
            mine.removeFirst(mine.prefix { $0 <= horizon }.count)
            defer { state.misses[merchantID] = mine.isEmpty ? nil : mine }
            if mine.count >= perShopLimit { return .blocked(retryAfter: max(1, mine[mine.count - perShopLimit] + window - now)) }
            if state.allMisses.count >= globalLimit {
                return .blocked(retryAfter: max(1, state.allMisses[state.allMisses.count - globalLimit] + window - now))
            }
            if let entry = state.codes.removeValue(forKey: code), entry.expires > now { return .token(entry.token) }
            mine.append(now)
            state.allMisses.append(now)
            return .miss
        }
    }

    /// Puts a number back after the verification that took it was rolled back, so the shop can simply retry.
    func restore(_ code: String, token: String, expires: Int) {
        state.withLock { $0.codes[code] = Entry(token: token, expires: expires) }
    }

    /// Rebuilds the budgets from recorded misses (oldest first), so a restart does not reset them.
    func restoreMisses(_ misses: [(merchantID: Int64, at: Int)]) {
        state.withLock { state in
            for miss in misses {
                state.misses[miss.merchantID, default: []].append(miss.at)
                state.allMisses.append(miss.at)
            }
        }
    }
}
