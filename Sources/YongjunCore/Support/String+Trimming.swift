extension String {
    /// The string without leading and trailing white space (including the full-width space U+3000).
    ///
    /// One pass over the scalars from each end: input from files and forms can be megabytes long.
    func trimmingWhitespace() -> String {
        Substring(self).trimmingWhitespace()
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
