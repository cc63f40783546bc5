import YongjunCore

// Fuzzes reading an import file: bytes → text (UTF-8, GB18030, or detected) → CSV table → cardholder and
// application rows. The first byte picks the encoding; the rest is the file.

private let encodings: [TextEncoding?] = [nil, .utf8, .gb18030]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = input.first else { return 0 }
    let file = Array(input.dropFirst())
    guard let (text, encoding) = TextDecoding.decode(file, as: encodings[Int(selector) % encodings.count]) else { return 0 }
    if encoding == .utf8 { precondition(Array(text.utf8) == file, "UTF-8 decoding changed the bytes") }

    if let table = try? CSVTable(parsing: text) {
        precondition(zip(table.rows, table.rows.dropFirst()).allSatisfy { $0.line < $1.line }, "row lines do not increase")
        // Written back with every field quoted, the table reads the same.
        let again = try? CSVTable(parsing: written(table))
        precondition(again?.rows.map(\.fields) == table.rows.map(\.fields), "the table changed when written and read again")
    }
    let cards = CardImport.parse(text)
    precondition(cards.cards.isEmpty || cards.problems.isEmpty, "cardholder import kept some rows and refused others")
    let applications = ApplicationImport.parse(text)
    precondition(applications.applications.isEmpty || applications.problems.isEmpty, "application import kept some rows and refused others")
    return 0
}

private func written(_ table: CSVTable) -> String {
    var text = String.UnicodeScalarView()
    for row in table.rows {
        for (index, field) in row.fields.enumerated() {
            if index > 0 { text.append(",") }
            text.append("\"")
            for scalar in field.unicodeScalars {
                if scalar == "\"" { text.append("\"") }
                text.append(scalar)
            }
            text.append("\"")
        }
        text.append("\n")
    }
    return String(text)
}
