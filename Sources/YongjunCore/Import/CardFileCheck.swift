/// A cardholders file read as its bytes stream past (UTF-8, in pieces of any size): a province's 10^6 rows are
/// never held whole. The same header, field and row rules as `CardImport.parse`.
public struct CardRowReader: Sendable {
    /// A validated card and its line, or the problem of one line.
    public enum Row: Sendable {
        case card(ImportedCard, line: Int)
        case problem(ImportProblem)
    }

    private var reader = CSVReader()
    private var walk = CSVRowWalk<CardImport.Column>(required: CardImport.requiredColumns)

    public init() {}

    /// The rows these bytes completed. Throws the one problem that stops the whole file: unreadable CSV, a bad header.
    public mutating func read(_ bytes: [UInt8]) throws(ImportProblem) -> [Row] {
        let parsed: [CSVTable.Row]
        do {
            parsed = try reader.read(bytes)
        } catch {
            throw ImportProblem(line: error.line, reason: error.reason)
        }
        return try rows(parsed)
    }

    /// The end of the file: its last row, if it has no line end.
    public mutating func finish() throws(ImportProblem) -> [Row] {
        let parsed: [CSVTable.Row]
        do {
            parsed = try reader.finish()
        } catch {
            throw ImportProblem(line: error.line, reason: error.reason)
        }
        return try rows(parsed)
    }

    private mutating func rows(_ rows: [CSVTable.Row]) throws(ImportProblem) -> [Row] {
        var result: [Row] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            switch walk.take(row, validate: CardImport.validate) {
            case .header, .blank: continue
            case .fatal(let problem): throw problem
            case .problem(let problem): result.append(.problem(problem))
            case .value(let card): result.append(.card(card, line: row.line))
            }
        }
        return result
    }

    /// The problem of a file that ended without a header or without a single row.
    public func endProblem(rowsFound: Bool) -> ImportProblem? {
        walk.finish(valuesFound: rowsFound, noun: "cardholder")
    }
}

/// The checking pass over a cardholders file: every bad line, and how many cards it holds. Duplicates within the
/// file are found in 8 bytes per card (a fingerprint of the card number); only when two fingerprints agree is the
/// file read once more (`DuplicateCheck`) to name the lines exactly.
public struct CardFileCheck: Sendable {
    public private(set) var problems: [ImportProblem] = []
    /// Good rows, duplicates included.
    public private(set) var cards = 0
    private var fingerprints: [Int] = []

    public init() {}

    public mutating func add(_ row: CardRowReader.Row) {
        switch row {
        case .problem(let problem): problems.append(problem)
        case .card(let card, _):
            cards += 1
            fingerprints.append(card.cardNo.hashValue)
        }
    }

    /// A problem that stops the whole file: it is the only one reported, as `CardImport.parse` does.
    public mutating func fail(_ problem: ImportProblem) {
        problems = [problem]
        cards = 0
        fingerprints = []
    }

    /// A second look for the card numbers that may appear twice; nil when no two fingerprints agree.
    public mutating func duplicateCheck() -> DuplicateCheck? {
        fingerprints.sort()
        var suspects = Set<Int>()
        for index in fingerprints.indices.dropFirst() where fingerprints[index] == fingerprints[index - 1] {
            suspects.insert(fingerprints[index])
        }
        fingerprints = []
        return suspects.isEmpty ? nil : DuplicateCheck(suspects: suspects)
    }

    /// Adds what the second look found, keeping every problem in line order.
    public mutating func add(_ duplicates: DuplicateCheck) {
        problems = (problems + duplicates.problems).sorted { $0.line < $1.line }
    }
}

/// Names the lines whose card number an earlier line already has, among the suspected card numbers.
public struct DuplicateCheck: Sendable {
    let suspects: Set<Int>
    private var firstLine: [String: Int] = [:]
    public private(set) var problems: [ImportProblem] = []

    init(suspects: Set<Int>) {
        self.suspects = suspects
    }

    public mutating func add(_ row: CardRowReader.Row) {
        guard case .card(let card, let line) = row, suspects.contains(card.cardNo.hashValue) else { return }
        if let first = firstLine[card.cardNo] {
            problems.append(ImportProblem(line: line, reason: CardImport.duplicateReason(card, first)))
        } else {
            firstLine[card.cardNo] = line
        }
    }
}
