import Foundation
import YongjunCore

/// Prints `value` as pretty, key-sorted JSON for scripts.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints one line whose text comes partly from outside (names, notes), control characters escaped.
func printLine(_ text: String) {
    print(TerminalText.escape(text))
}

/// Prints rows as an aligned table; CJK characters count as two columns, as terminals show them. Every cell is
/// escaped for the terminal: a shop name carrying ESC or OSC bytes shows as text instead of driving the terminal.
func printTable(_ header: [String], _ rows: [[String]]) {
    let all = ([header] + rows).map { $0.map(TerminalText.escape) }
    let widths = header.indices.map { column in all.map { displayWidth($0[column]) }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - displayWidth(cell))
        }
        print(cells.joined(separator: "  "))
    }
}

func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
        width
            + ((0x1100...0x115F).contains(scalar.value) || (0x2E80...0xA4CF).contains(scalar.value)
                || (0xAC00...0xD7A3).contains(scalar.value) || (0xF900...0xFAFF).contains(scalar.value)
                || (0xFE30...0xFE4F).contains(scalar.value) || (0xFF00...0xFF60).contains(scalar.value)
                || (0xFFE0...0xFFE6).contains(scalar.value) ? 2 : 1)
    }
}
