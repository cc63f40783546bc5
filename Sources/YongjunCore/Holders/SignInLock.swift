/// How repeated wrong secrets lock a card number: five failures lock it, each lock longer than the last
/// (15 minutes, 1 hour, 24 hours), and the fourth lasts until the bureau runs `yongjun cards unlock`.
/// A correct sign-in clears the count and the escalation.
public enum SignInLock {
    public static let maximumFailures = 5
    static let durations = [15 * 60, 3600, 86_400]

    /// Seconds the lock at `level` (1 = first lock) lasts; nil when it lasts until the bureau unlocks the card.
    public static func duration(level: Int) -> Int? {
        (1...durations.count).contains(level) ? durations[level - 1] : nil
    }
}
