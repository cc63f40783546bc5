/// Reads CSV (RFC 4180: quotes, doubled quotes, CRLF or LF) from UTF-8 bytes fed in pieces of any size, so a
/// province's file is never held whole; `CSVTable` is the same reader fed one whole text.
///
/// Works on bytes: the four bytes that matter (`"` `,` CR LF) never occur inside a multi-byte UTF-8 character.
public struct CSVReader: Sendable {
    private var fields: [String] = []
    private var field: [UInt8] = []
    private var fieldLength = 0
    private var line = 1
    private var rowStart = 1
    private var inQuotes = false
    private var fieldWasQuoted = false
    /// A quote inside a quoted field: closing, or the first of a doubled quote (decided by the next byte).
    private var quoteInQuotes = false
    /// After a CR: a LF right after it belongs to the same line end.
    private var afterCR = false
    /// Bytes seen so far of a leading UTF-8 byte-order mark.
    private var bomMatched = 0
    private var started = false

    public init() {}

    /// Feeds the next bytes; returns the rows they completed, each with the line it starts on.
    public mutating func read(_ bytes: [UInt8]) throws(CSVTable.ParseError) -> [CSVTable.Row] {
        var rows: [CSVTable.Row] = []
        var start = 0
        if !started { try skipByteOrderMark(bytes, &start, &rows) }
        for index in start..<bytes.count { try take(bytes[index], &rows) }
        return rows
    }

    /// The end of the input: the last row if the file does not end with a line end.
    public mutating func finish() throws(CSVTable.ParseError) -> [CSVTable.Row] {
        var rows: [CSVTable.Row] = []
        if !started, bomMatched > 0 {
            // A file shorter than a byte-order mark that began like one: those bytes are text.
            started = true
            for byte in Self.byteOrderMark.prefix(bomMatched) { try take(byte, &rows) }
        }
        if quoteInQuotes {
            quoteInQuotes = false
            inQuotes = false
        }
        if inQuotes { throw CSVTable.ParseError(line: rowStart, reason: "a quoted field is never closed (missing \")") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRow(&rows) }
        return rows
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private mutating func skipByteOrderMark(_ bytes: [UInt8], _ start: inout Int, _ rows: inout [CSVTable.Row]) throws(CSVTable.ParseError) {
        while !started, start < bytes.count {
            if bytes[start] == Self.byteOrderMark[bomMatched] {
                bomMatched += 1
                start += 1
                if bomMatched == Self.byteOrderMark.count { started = true }
            } else {
                started = true
                for earlier in Self.byteOrderMark.prefix(bomMatched) { try take(earlier, &rows) }
            }
        }
    }

    private mutating func take(_ byte: UInt8, _ rows: inout [CSVTable.Row]) throws(CSVTable.ParseError) {
        if afterCR {
            afterCR = false
            if byte == 0x0A { return }
        }
        if quoteInQuotes {
            quoteInQuotes = false
            if byte == 0x22 { return try append(byte) }
            inQuotes = false
        }
        if inQuotes {
            if byte == 0x22 {
                quoteInQuotes = true
                return
            }
            if byte == 0x0A { line += 1 }
            return try append(byte)
        }
        switch byte {
        case 0x22:
            guard field.isEmpty, !fieldWasQuoted else {
                throw CSVTable.ParseError(line: line, reason: "a quote (\") inside an unquoted field; put the whole field in quotes")
            }
            inQuotes = true
            fieldWasQuoted = true
        case 0x2C:
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldLength = 0
            fieldWasQuoted = false
        case 0x0D, 0x0A:
            afterCR = byte == 0x0D
            endRow(&rows)
            line += 1
            rowStart = line
        default:
            if fieldWasQuoted {
                throw CSVTable.ParseError(line: line, reason: "text after a closing quote; a quoted field must end at a comma or line end")
            }
            try append(byte)
        }
    }

    /// Field length is counted in characters (Unicode scalars), as the limit is documented: continuation bytes do not count.
    private mutating func append(_ byte: UInt8) throws(CSVTable.ParseError) {
        if byte & 0xC0 != 0x80 {
            fieldLength += 1
            guard fieldLength <= CSVTable.maximumFieldLength else {
                throw CSVTable.ParseError(
                    line: line,
                    reason: "a field longer than \(CSVTable.maximumFieldLength) characters; is this the right file?"
                )
            }
        }
        field.append(byte)
    }

    private mutating func endRow(_ rows: inout [CSVTable.Row]) {
        fields.append(String(decoding: field, as: UTF8.self))
        if !(fields.count == 1 && field.isEmpty && !fieldWasQuoted) {
            rows.append(CSVTable.Row(line: rowStart, fields: fields))
        }
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        fieldLength = 0
        fieldWasQuoted = false
    }
}
