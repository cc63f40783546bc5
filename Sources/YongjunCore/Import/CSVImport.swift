/// A column of an import file, known by an English and a Chinese header name.
protocol ImportColumn: Hashable, CaseIterable, RawRepresentable<String>, Sendable {
    var chinese: String { get }
}

extension ImportColumn {
    var display: String { "\(rawValue) (\(chinese))" }
}

/// The shared walk over an import file: header mapping, blank rows, field counts, per-row validation and
/// duplicates within the file. Either every row is good and `values` holds them all, or `problems` lists every
/// bad line; never a part.
enum CSVImport<Column: ImportColumn> {
    struct Outcome<Value> {
        var values: [Value] = []
        var problems: [ImportProblem] = []
    }

    static func parse<Value, Key: Hashable>(
        _ text: String,
        required: [Column],
        noun: String,
        progress: (Int, Int) -> Void,
        validate: (CSVTable.Row, [Column: Int]) -> Result<Value, ImportProblem>,
        uniqueKey: (Value) -> Key,
        duplicate: (Value, Int) -> String
    ) -> Outcome<Value> {
        let table: CSVTable
        do {
            table = try CSVTable(parsing: text)
        } catch {
            return Outcome(problems: [ImportProblem(line: error.line, reason: error.reason)])
        }
        var walk = CSVRowWalk<Column>(required: required)
        var outcome = Outcome<Value>()
        var firstLine: [Key: Int] = [:]
        let total = table.rows.count - 1
        for (index, row) in table.rows.enumerated() {
            if index % 1000 == 0, index > 0 { progress(index, total) }
            switch walk.take(row, validate: validate) {
            case .header, .blank: continue
            case .fatal(let problem): return Outcome(problems: [problem])
            case .problem(let problem): outcome.problems.append(problem)
            case .value(let value):
                if let first = firstLine[uniqueKey(value)] {
                    outcome.problems.append(ImportProblem(line: row.line, reason: duplicate(value, first)))
                } else {
                    firstLine[uniqueKey(value)] = row.line
                    outcome.values.append(value)
                }
            }
        }
        if let problem = walk.finish(valuesFound: !outcome.values.isEmpty || !outcome.problems.isEmpty, noun: noun) {
            return Outcome(problems: [problem])
        }
        progress(total, total)
        if !outcome.problems.isEmpty { outcome.values = [] }
        return outcome
    }
}

/// One row at a time of an import file, so a file can be checked as it streams past: the first row is the
/// header, then blank rows are skipped, field counts checked and each row validated.
struct CSVRowWalk<Column: ImportColumn>: Sendable {
    enum Step<Value> {
        case header
        case blank
        case value(Value)
        case problem(ImportProblem)
        /// The file cannot be read at all (bad header): this is the only problem to report.
        case fatal(ImportProblem)
    }

    let required: [Column]
    private var headerCount: Int?
    private var columns: [Column: Int] = [:]

    init(required: [Column]) {
        self.required = required
    }

    mutating func take<Value>(_ row: CSVTable.Row, validate: (CSVTable.Row, [Column: Int]) -> Result<Value, ImportProblem>) -> Step<Value> {
        guard let headerCount else {
            switch HeaderMap<Column>.map(row, names: { [$0.rawValue, $0.chinese] }, required: required) {
            case .success(let map):
                columns = map
                self.headerCount = row.fields.count
                return .header
            case .failure(let problem): return .fatal(problem)
            }
        }
        // Excel's trailing ",,,,," rows.
        if row.fields.allSatisfy({ !ImportText.hasVisibleASCII($0) && $0.trimmingWhitespace().isEmpty }) { return .blank }
        guard row.fields.count == headerCount else {
            return .problem(ImportProblem(line: row.line, reason: "has \(row.fields.count) fields, the header has \(headerCount)"))
        }
        switch validate(row, columns) {
        case .success(let value): return .value(value)
        case .failure(let problem): return .problem(problem)
        }
    }

    /// The problem with the file as a whole once every row went by: no header, or no data rows.
    func finish(valuesFound: Bool, noun: String) -> ImportProblem? {
        if headerCount == nil { return ImportProblem(line: 1, reason: "the file is empty; expected a header row") }
        if !valuesFound { return ImportProblem(line: 2, reason: "the file has a header but no \(noun) rows") }
        return nil
    }
}
