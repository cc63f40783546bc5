import Foundation
import Synchronization
import YongjunCore

/// The 9-digit codes this server handed out with signed codes: each stands for its signed code until that
/// expires or is used once. Failed look-ups are counted per shop key; too many in ten minutes blocks that key
/// from typed codes for a while, so guessing (10^9 codes) stays impractical.
final class ShortCodeTable: Sendable {
    private struct Entry {
        let token: String
        let expires: Int
    }

    private struct State {
        var codes: [String: Entry] = [:]
        var misses: [String: [Int]] = [:]
    }

    private let state = Mutex(State())
    static let missLimit = 10
    static let missWindow = 600

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

    /// The signed code behind `code`, removed so it cannot be used twice; nil when unknown or expired.
    func take(_ code: String, now: Int) -> String? {
        state.withLock { state in
            guard let entry = state.codes.removeValue(forKey: code), entry.expires > now else { return nil }
            return entry.token
        }
    }

    func isBlocked(keyID: String, now: Int) -> Bool {
        state.withLock { ($0.misses[keyID]?.filter { $0 > now - Self.missWindow }.count ?? 0) >= Self.missLimit }
    }

    func recordMiss(keyID: String, now: Int) {
        state.withLock { state in
            state.misses[keyID, default: []].append(now)
            state.misses[keyID] = state.misses[keyID]?.filter { $0 > now - Self.missWindow }
        }
    }
}
