extension CardCategory {
    /// Accepts either the English code (`veteran`) or the Chinese label (`退役军人`).
    public init?(codeOrLabel text: String) {
        // The exact code or label, as nearly every row of a file has it: no trimming or case folding to do.
        if let exact = CardCategory(rawValue: text) ?? CardCategory.allCases.first(where: { $0.label == text }) {
            self = exact
            return
        }
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
