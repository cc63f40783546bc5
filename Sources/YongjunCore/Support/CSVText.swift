import Foundation

/// CSV with a UTF-8 BOM and CRLF line ends; fields quoted when they hold a comma, quote or line break.
///
/// A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP's CSV
/// injection rule), so Excel shows `=HYPERLINK(…)` typed into the application form as text instead of running it.
public enum CSVText {
    public static func document(_ header: [String], _ rows: [[String]]) -> String {
        func field(_ cell: String) -> String {
            let text = cell.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } == true ? "'" + cell : cell
            return text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        return "\u{FEFF}" + ([header] + rows).map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }
}
