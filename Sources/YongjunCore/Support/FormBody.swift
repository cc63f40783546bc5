import Foundation

/// An `application/x-www-form-urlencoded` body, as the pages' forms post it.
public enum FormBody {
    /// The fields of `bytes`; `+` is a space, bad percent-escapes give "", and a repeated name keeps its last value.
    public static func decode(_ bytes: some Collection<UInt8>) -> [String: String] {
        var form: [String: String] = [:]
        for pair in String(decoding: bytes, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let key = parts.first { form[decode(key)] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return form
    }
}
