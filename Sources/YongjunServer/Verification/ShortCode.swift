/// The 9-digit stand-ins for signed codes, which a holder can read out or type; the store keeps them (`short_codes`)
/// and the guess budgets (`GuessBudget`), so every instance honours the same numbers and limits.
enum ShortCode {
    static func looksLikeShortCode(_ code: String) -> Bool {
        (8...10).contains(code.utf8.count) && code.utf8.allSatisfy { (48...57).contains($0) }
    }
}
