import Foundation
import YongjunCore

/// The sign-in lock rule as both stores apply it to a `sign_in_guards` row (failures, lock level, locked until).
package enum SignInGuard {
    /// Written into `locked_until` for a lock only the bureau lifts.
    package static let untilUnlocked = "9999-12-31T00:00:00.000Z"

    /// The lock a row's `locked_until` puts on a card number now, if any.
    package static func lock(lockedUntil text: String?, now: Date) -> HolderAccessError? {
        guard let text else { return nil }
        if text == untilUnlocked { return .locked(retryAfter: nil) }
        guard let until = Timestamp.parse(text), until > now else { return nil }
        return .locked(retryAfter: Int(until.timeIntervalSince(now).rounded(.up)))
    }

    /// The row after one more failure, and the answer: the fifth failure locks for the next, longer period (and the
    /// count starts again).
    package static func failure(
        failures previous: Int,
        level previousLevel: Int,
        now: Date
    )
        -> (failures: Int, level: Int, lockedUntil: String?, outcome: HolderAccessError)
    {
        let failures = previous + 1
        guard failures >= SignInLock.maximumFailures else {
            return (failures, previousLevel, nil, .wrongCredentials(attemptsLeft: SignInLock.maximumFailures - failures))
        }
        let level = previousLevel + 1
        let seconds = SignInLock.duration(level: level)
        let until = seconds.map { Timestamp.iso(now.addingTimeInterval(TimeInterval($0))) } ?? untilUnlocked
        return (0, level, until, .locked(retryAfter: seconds))
    }
}
