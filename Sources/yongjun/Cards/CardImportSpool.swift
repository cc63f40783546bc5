import Foundation
import YongjunCore
import YongjunStorage

/// The checked rows between the two passes, in an unnamed temporary file (owner-only, gone when the process ends):
/// card number, name, ID-number hash, category, valid-until, phone, grade, separated by U+001F, one row a line.
/// Checked fields hold no control characters, so the separators cannot occur inside them.
final class CardSpool {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var pending: [UInt8] = []
    private var rows: [CardImportRow] = []
    private var nextIndex = 0
    private var atEnd = false

    init() throws {
        guard let file = tmpfile() else { throw CLIFailure(message: "cannot create a temporary file for the import (TMPDIR full?)") }
        self.file = file
    }

    deinit { fclose(file) }

    func append(_ row: CardImportRow) throws {
        var line = [UInt8]()
        line.reserveCapacity(128)
        for field in [row.cardNo, row.name, row.idNumberHash, row.category.rawValue, row.validUntil.description, row.phone ?? ""] {
            line += field.utf8
            line.append(0x1F)
        }
        line += (row.disabilityGrade.map(String.init) ?? "").utf8
        line.append(0x0A)
        guard fwrite(line, 1, line.count, file) == line.count else { throw CLIFailure(message: "cannot write the import's temporary file") }
    }

    /// Empty again, for a new checking pass.
    func reset() throws {
        guard fflush(file) == 0, ftruncate(fileno(file), 0) == 0, fseek(file, 0, SEEK_SET) == 0 else {
            throw CLIFailure(message: "cannot write the import's temporary file")
        }
    }

    /// Back to the first row, for reading.
    func rewind() throws {
        guard fflush(file) == 0, fseek(file, 0, SEEK_SET) == 0 else { throw CLIFailure(message: "cannot read the import's temporary file back") }
    }

    func next() throws -> CardImportRow? {
        while nextIndex == rows.count {
            guard !atEnd else { return nil }
            try refill()
        }
        defer { nextIndex += 1 }
        return rows[nextIndex]
    }

    private func refill() throws {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 {
            guard ferror(file) == 0 else { throw CLIFailure(message: "cannot read the import's temporary file back") }
            atEnd = true
        }
        pending += buffer[..<count]
        rows.removeAll(keepingCapacity: true)
        nextIndex = 0
        var start = pending.startIndex
        while let end = pending[start...].firstIndex(of: 0x0A) {
            rows.append(try decode(pending[start..<end]))
            start = end + 1
        }
        pending.removeFirst(start - pending.startIndex)
    }

    private func decode(_ line: ArraySlice<UInt8>) throws -> CardImportRow {
        let fields = line.split(separator: 0x1F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 7, let category = CardCategory(rawValue: fields[3]), let validUntil = CalendarDate(iso: fields[4]) else {
            throw CLIFailure(message: "the import's temporary file is damaged; run the import again")
        }
        return CardImportRow(
            cardNo: fields[0],
            name: fields[1],
            idNumberHash: fields[2],
            category: category,
            validUntil: validUntil,
            phone: fields[5].isEmpty ? nil : fields[5],
            disabilityGrade: Int(fields[6])
        )
    }
}
