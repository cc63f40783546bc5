/// Maps a CSV header row to column positions, accepting each column under any of its names, in any order.
enum HeaderMap<Column: Hashable & RawRepresentable<String>> {
    static func map(
        _ header: CSVTable.Row,
        names: (Column) -> [String],
        required: [Column]
    ) -> Result<[Column: Int], ImportProblem> where Column: CaseIterable {
        var positions: [Column: Int] = [:]
        for (index, rawName) in header.fields.enumerated() {
            let name = rawName.trimmingWhitespace()
            guard let column = Column.allCases.first(where: { names($0).contains(name) || names($0).contains(name.lowercased()) }) else {
                continue  // extra columns (序号, 备注 …) are allowed and ignored
            }
            if positions[column] != nil {
                return .failure(ImportProblem(line: header.line, reason: "column \"\(name)\" appears twice in the header"))
            }
            positions[column] = index
        }
        let missing = required.filter { positions[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.map { names($0).joined(separator: " / ") }.joined(separator: ", ")
            return .failure(ImportProblem(line: header.line, reason: "the header is missing required column(s): \(list)"))
        }
        return .success(positions)
    }
}
