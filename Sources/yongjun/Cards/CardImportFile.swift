import Foundation
import YongjunCore
import YongjunStorage

/// The import file, read in pieces of about a megabyte that end after a line feed, decoded piece by piece.
final class CardFile {
    let path: String
    private(set) var encoding: TextEncoding
    private let detect: Bool
    private var descriptor: Int32
    private var size: Int

    init(path: String, encoding: TextEncoding?) throws {
        self.path = path
        self.encoding = encoding ?? .utf8
        detect = encoding == nil
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0, status.st_mode & S_IFMT != S_IFDIR else {
            if descriptor >= 0 { close(descriptor) }
            throw CLIFailure(message: "cannot read \(path): no such file or not readable")
        }
        size = Int(status.st_size)
        if status.st_mode & S_IFMT != S_IFREG { try spool() }
    }

    /// A pipe (`/dev/stdin`) cannot be read twice: copy it to an unnamed temporary file first.
    private func spool() throws {
        guard let copy = tmpfile() else { throw CLIFailure(message: "cannot read \(path): no room for a temporary copy") }
        let copyDescriptor = dup(fileno(copy))
        fclose(copy)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while case let count = try read(into: &buffer), count > 0 {
            let written = buffer.withUnsafeBytes { write(copyDescriptor, $0.baseAddress, count) }
            guard written == count else { throw CLIFailure(message: "cannot read \(path): no room for a temporary copy") }
            total += count
        }
        close(descriptor)
        descriptor = copyDescriptor
        size = total
    }

    deinit { close(descriptor) }

    /// The checking pass: every bad line, or the number of good rows. Valid UTF-8 is UTF-8; a file that is not is
    /// read again as GB18030, as `TextDecoding.decode` decides for a whole file.
    /// `good` is given every good row; `start` is called before the first, and again if the file turns out to be
    /// GB18030 and is read from the start once more.
    func check(progress: Progress, start: () throws -> Void, good: (ImportedCard) throws -> Void) throws -> CardFileCheck {
        do {
            do {
                return try checkOnce(progress: progress, start: start, good: good)
            } catch is NotText where detect {
                encoding = .gb18030
                return try checkOnce(progress: progress, start: start, good: good)
            }
        } catch is NotText {
            throw notText
        }
    }

    private func checkOnce(progress: Progress, start: () throws -> Void, good: (ImportedCard) throws -> Void) throws -> CardFileCheck {
        try start()
        var check = CardFileCheck()
        let rows = try self.rows(progress: progress)
        do {
            while let row = try rows.next() {
                check.add(row)
                if case .card(let card, _) = row { try good(card) }
            }
            if let problem = rows.endProblem(rowsFound: check.cards > 0 || !check.problems.isEmpty) { check.fail(problem) }
        } catch let problem as ImportProblem {
            check.fail(problem)
            try rows.drain()  // the rest must still be text in this encoding, as when the whole file was decoded first
        }
        if var duplicates = check.duplicateCheck() {
            let again = try self.rows()
            while let row = try again.next() { duplicates.add(row) }
            check.add(duplicates)
        }
        return check
    }

    /// How many lines the file has (line feeds, and a last line without one): at least as many as its rows. A line
    /// feed byte is one in GB18030 too, never part of a longer character.
    func lineCount() throws -> Int {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw CLIFailure(message: "cannot read \(path): \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var (lines, last): (Int, UInt8) = (0, 0x0A)
        while case let count = try read(into: &buffer), count > 0 {
            lines += buffer[..<count].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            last = buffer[count - 1]
        }
        return lines + (last == 0x0A ? 0 : 1)
    }

    /// The rows from the start of the file.
    func rows(progress: Progress? = nil) throws -> CardFileRows {
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw CLIFailure(message: "cannot read \(path): \(String(cString: strerror(errno)))") }
        return CardFileRows(file: self, progress: progress)
    }

    fileprivate func read(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno != EINTR { throw CLIFailure(message: "cannot read \(path): \(String(cString: strerror(errno)))") }
        }
    }

    fileprivate func progress(_ progress: Progress?, at offset: Int) {
        progress?.update(offset / 1024, max(size / 1024, offset / 1024))
    }

    fileprivate struct NotText: Error {}

    fileprivate var notText: CLIFailure {
        let tried = detect ? "UTF-8 or GB18030" : encoding.rawValue
        return CLIFailure(message: "\(path) is not \(tried) text; save it from Excel as \"CSV UTF-8\" or pass --encoding")
    }
}

/// One pass over the file's rows.
final class CardFileRows {
    private let file: CardFile
    private let progress: Progress?
    private var reader = CardRowReader()
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)
    private var carry: [UInt8] = []
    private var offset = 0
    private var pending: [CardRowReader.Row] = []
    private var nextIndex = 0
    private var finished = false

    fileprivate init(file: CardFile, progress: Progress?) {
        self.file = file
        self.progress = progress
    }

    /// The next row, nil at the end. Throws `ImportProblem` for a problem that stops the whole file.
    func next() throws -> CardRowReader.Row? {
        while nextIndex == pending.count {
            guard !finished else { return nil }
            nextIndex = 0
            pending = try nextPiece().map { try reader.read($0) } ?? finish()
        }
        defer { nextIndex += 1 }
        return pending[nextIndex]
    }

    func endProblem(rowsFound: Bool) -> ImportProblem? { reader.endProblem(rowsFound: rowsFound) }

    /// Reads and decodes the rest of the file without looking at its rows.
    func drain() throws {
        while try nextPiece() != nil {}
        finished = true
    }

    private func finish() throws -> [CardRowReader.Row] {
        finished = true
        file.progress(progress, at: offset)
        return try reader.finish()
    }

    /// UTF-8 bytes up to and including a line feed, or the rest of the file; nil at its end.
    private func nextPiece() throws -> [UInt8]? {
        while true {
            let count = try file.read(into: &buffer)
            offset += count
            if count == 0 {
                guard !carry.isEmpty else { return nil }
                defer { carry = [] }
                return try decode(carry)
            }
            carry.append(contentsOf: buffer[..<count])
            if let lineEnd = carry.lastIndex(of: 0x0A) {
                let piece = Array(carry[...lineEnd])
                carry.removeFirst(lineEnd + 1)
                file.progress(progress, at: offset)
                return try decode(piece)
            }
        }
    }

    private func decode(_ piece: [UInt8]) throws -> [UInt8] {
        guard let text = TextDecoding.utf8Bytes(piece, from: file.encoding) else { throw CardFile.NotText() }
        return text
    }

}
