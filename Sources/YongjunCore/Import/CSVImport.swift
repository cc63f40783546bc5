/// A column of an import file, known by an English and a Chinese header name.
protocol ImportColumn: Hashable, CaseIterable, RawRepresentable<String> {
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
        guard let header = table.rows.first else {
            return Outcome(problems: [ImportProblem(line: 1, reason: "the file is empty; expected a header row")])
        }
        let columns: [Column: Int]
        switch HeaderMap<Column>.map(header, names: { [$0.rawValue, $0.chinese] }, required: required) {
        case .success(let map): columns = map
        case .failure(let problem): return Outcome(problems: [problem])
        }
        var outcome = Outcome<Value>()
        var firstLine: [Key: Int] = [:]
        let total = table.rows.count - 1
        for (index, row) in table.rows.dropFirst().enumerated() {
            if index % 1000 == 999 { progress(index + 1, total) }
            if row.fields.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue }  // Excel's trailing ",,,,," rows
            guard row.fields.count == header.fields.count else {
                outcome.problems.append(
                    ImportProblem(line: row.line, reason: "has \(row.fields.count) fields, the header has \(header.fields.count)")
                )
                continue
            }
            switch validate(row, columns) {
            case .failure(let problem): outcome.problems.append(problem)
            case .success(let value):
                if let first = firstLine[uniqueKey(value)] {
                    outcome.problems.append(ImportProblem(line: row.line, reason: duplicate(value, first)))
                } else {
                    firstLine[uniqueKey(value)] = row.line
                    outcome.values.append(value)
                }
            }
        }
        progress(total, total)
        if outcome.values.isEmpty && outcome.problems.isEmpty {
            outcome.problems.append(ImportProblem(line: 2, reason: "the file has a header but no \(noun) rows"))
        }
        if !outcome.problems.isEmpty { outcome.values = [] }
        return outcome
    }
}
