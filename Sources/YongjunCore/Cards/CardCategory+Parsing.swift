extension CardCategory {
    /// Accepts either the English code (`veteran`) or the Chinese label (`退役军人`).
    public init?(codeOrLabel text: String) {
        let trimmed = text.trimmingWhitespace()
        if let byCode = CardCategory(rawValue: trimmed.lowercased()) {
            self = byCode
        } else if let byLabel = CardCategory.allCases.first(where: { $0.label == trimmed }) {
            self = byLabel
        } else {
            return nil
        }
    }
}
