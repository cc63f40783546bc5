/// A comma-separated file as the bureau's spreadsheets save it (RFC 4180: quotes, doubled quotes, CRLF or LF).
public struct CSVTable: Sendable {
    /// One record and the line of the file it starts on (1 = the header line).
    public struct Row: Sendable {
        public let line: Int
        public let fields: [String]
    }

    public let rows: [Row]
    /// No field of the bureau's files comes near this; a longer one is a wrong file or an attack, refused at once.
    public static let maximumFieldLength = 4096

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Parses `text`, dropping a leading UTF-8 byte-order mark and rows that are entirely empty.
    public init(parsing text: String) throws(ParseError) {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var fieldLength = 0
        var line = 1
        var rowStart = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }

        func endRow() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) {
                rows.append(Row(line: rowStart, fields: fields))
            }
            fields = []
            field = ""
            fieldLength = 0
            fieldWasQuoted = false
        }

        func append(_ scalar: Unicode.Scalar) throws(ParseError) {
            fieldLength += 1
            guard fieldLength <= Self.maximumFieldLength else {
                throw ParseError(line: line, reason: "a field longer than \(Self.maximumFieldLength) characters; is this the right file?")
            }
            field.unicodeScalars.append(scalar)
        }

        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        try append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    try append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty, !fieldWasQuoted else {
                    throw ParseError(line: line, reason: "a quote (\") inside an unquoted field; put the whole field in quotes")
                }
                inQuotes = true
                fieldWasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                fieldLength = 0
                fieldWasQuoted = false
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRow()
                line += 1
                rowStart = line
            case "\n":
                endRow()
                line += 1
                rowStart = line
            default:
                if fieldWasQuoted {
                    throw ParseError(line: line, reason: "text after a closing quote; a quoted field must end at a comma or line end")
                }
                try append(scalar)
            }
        }
        if inQuotes { throw ParseError(line: rowStart, reason: "a quoted field is never closed (missing \")") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRow() }
        self.rows = rows
    }
}
