import YongjunStorage

extension PostgresCopy {
    /// Appends one SQLite value as a field of COPY's text format for the target column's type: `\N` for NULL,
    /// backslash, tab, newline and carriage return escaped, bytea as `\\x` and hex. SQLite's column affinities make a
    /// mismatch rare (an INTEGER column holding text that is no number); such a value is named, not changed.
    static func appendCopyText(_ cell: CellValue, as type: String, to text: inout String, at place: @autoclosure () -> String) throws {
        switch (cell, type) {
        case (.null, _): text += "\\N"
        case (.int(let number), "bigint"), (.int(let number), "text"), (.int(let number), "double precision"): text += String(number)
        case (.text(let value), "bigint") where Int64(value) != nil: text += String(Int64(value)!)
        case (.double(let number), "bigint") where number.rounded() == number && abs(number) < 9.2e18: text += String(Int64(number))
        case (.double(let number), "text"), (.double(let number), "double precision"): text += String(number)
        case (.text(let value), "text"): appendCopyField(value, to: &text)
        case (.blob(let bytes), "bytea"): appendHex(bytes, to: &text)
        case (.text(let value), "bytea"): appendHex(Array(value.utf8), to: &text)
        default:
            throw PostgresStoreError(
                "\(place()) holds \(cell.kind), which a PostgreSQL \(type) column cannot take; fix the row in SQLite, then copy again"
            )
        }
    }

    /// One text field of COPY's text format: `\N` for nil; backslash, tab, newline and carriage return escaped.
    static func appendCopyField(_ value: String?, to text: inout String) {
        guard let value else {
            text += "\\N"
            return
        }
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
            text += value
            return
        }
        for character in value.unicodeScalars {
            switch character {
            case "\\": text += "\\\\"
            case "\t": text += "\\t"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            default: text.unicodeScalars.append(character)
            }
        }
    }

    private static func appendHex(_ bytes: [UInt8], to text: inout String) {
        let digits = Array("0123456789abcdef".unicodeScalars)
        text += "\\\\x"
        for byte in bytes {
            text.unicodeScalars.append(digits[Int(byte >> 4)])
            text.unicodeScalars.append(digits[Int(byte & 0x0F)])
        }
    }
}
