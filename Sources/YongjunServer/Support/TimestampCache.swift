import Foundation
import Synchronization
import YongjunCore

/// `Timestamp.iso` with the date-and-time part remembered for the current second: every record needs one.
final class TimestampCache: Sendable {
    private let state = Mutex<(second: Int, prefix: String)>((-1, ""))

    func iso(_ date: Date) -> String {
        let millis = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let prefix = state.withLock { cached -> String in
            if cached.second != second {
                let full = Timestamp.iso(Date(timeIntervalSince1970: TimeInterval(second)))
                cached = (second, String(full.dropLast(4)))
            }
            return cached.prefix
        }
        let fraction = millis - second * 1000
        return prefix + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + String(fraction) + "Z"
    }
}
