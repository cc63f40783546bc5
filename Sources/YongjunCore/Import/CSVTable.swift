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
        var reader = CSVReader()
        let rows = try reader.read(Array(text.utf8))
        self.rows = rows + (try reader.finish())
    }
}
