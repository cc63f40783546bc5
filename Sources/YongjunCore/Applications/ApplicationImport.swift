/// One shop application row from the bureau's CSV, validated.
public struct ImportedApplication: Sendable, Equatable {
    /// The line of the file it came from, for messages about it.
    public var line: Int
    /// 门店名称
    public var shopName: String
    public var creditCode: CreditCode
    public var industry: Industry
    public var address: String
    /// 联系人
    public var contact: String
    public var phone: String
    /// 优惠内容, e.g. 凭优待证享9折
    public var benefit: String
}

/// Reads the applications CSV: header in English or Chinese, columns in any order; all rows or none.
public enum ApplicationImport {
    enum Column: String, CaseIterable {
        case shopName = "shop_name"
        case creditCode = "credit_code"
        case industry
        case address
        case contact
        case phone
        case benefit

        var chinese: String {
            switch self {
            case .shopName: "门店名称"
            case .creditCode: "统一社会信用代码"
            case .industry: "行业"
            case .address: "地址"
            case .contact: "联系人"
            case .phone: "联系电话"
            case .benefit: "优惠内容"
            }
        }

        var display: String { "\(rawValue) (\(chinese))" }
    }

    public struct Result: Sendable {
        public var applications: [ImportedApplication]
        public var problems: [ImportProblem]
    }

    /// `progress` is called with the number of rows checked so far, every 1,000 rows.
    public static func parse(_ text: String, progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        let table: CSVTable
        do {
            table = try CSVTable(parsing: text)
        } catch {
            return Result(applications: [], problems: [ImportProblem(line: error.line, reason: error.reason)])
        }
        guard let header = table.rows.first else {
            return Result(applications: [], problems: [ImportProblem(line: 1, reason: "the file is empty; expected a header row")])
        }
        let columns: [Column: Int]
        switch HeaderMap<Column>.map(header, names: { [$0.rawValue, $0.chinese] }, required: Column.allCases) {
        case .success(let map): columns = map
        case .failure(let problem): return Result(applications: [], problems: [problem])
        }
        var applications: [ImportedApplication] = []
        var problems: [ImportProblem] = []
        var firstLine: [CreditCode: Int] = [:]
        let total = table.rows.count - 1
        for (index, row) in table.rows.dropFirst().enumerated() {
            if index % 1000 == 999 { progress(index + 1, total) }
            if row.fields.allSatisfy({ $0.trimmingWhitespace().isEmpty }) { continue }
            guard row.fields.count == header.fields.count else {
                problems.append(ImportProblem(line: row.line, reason: "has \(row.fields.count) fields, the header has \(header.fields.count)"))
                continue
            }
            switch validate(row, columns: columns) {
            case .failure(let problem): problems.append(problem)
            case .success(let application):
                if let first = firstLine[application.creditCode] {
                    problems.append(
                        ImportProblem(
                            line: row.line,
                            reason: "credit_code (统一社会信用代码) \(application.creditCode) already applies on line \(first); a shop applies once per batch"
                        )
                    )
                } else {
                    firstLine[application.creditCode] = row.line
                    applications.append(application)
                }
            }
        }
        progress(total, total)
        if applications.isEmpty && problems.isEmpty {
            problems.append(ImportProblem(line: 2, reason: "the file has a header but no application rows"))
        }
        return Result(applications: problems.isEmpty ? applications : [], problems: problems)
    }

    static func validate(_ row: CSVTable.Row, columns: [Column: Int]) -> Swift.Result<ImportedApplication, ImportProblem> {
        func value(_ column: Column) -> String { columns[column].map { row.fields[$0].trimmingWhitespace() } ?? "" }
        func problem(_ column: Column, _ reason: String) -> Swift.Result<ImportedApplication, ImportProblem> {
            .failure(ImportProblem(line: row.line, reason: "\(column.display) \(reason)"))
        }
        for column in Column.allCases where value(column).isEmpty {
            return problem(column, "is empty")
        }
        for column in [Column.shopName, .address, .contact, .benefit] where value(column).count > 200 {
            return problem(column, "is longer than 200 characters")
        }
        let creditCode: CreditCode
        do {
            creditCode = try CreditCode(value(.creditCode))
        } catch {
            return problem(.creditCode, error.description)
        }
        guard let industry = Industry(codeOrLabel: value(.industry)) else {
            return problem(.industry, "\"\(value(.industry))\" is not a known industry; use one of \(Industry.acceptedValues)")
        }
        guard PhoneNumber.isPlausible(value(.phone)) else {
            return problem(.phone, "\"\(value(.phone))\" is not a mobile number (11 digits starting with 1) or a landline like 0763-1234567")
        }
        return .success(
            ImportedApplication(
                line: row.line,
                shopName: value(.shopName),
                creditCode: creditCode,
                industry: industry,
                address: value(.address),
                contact: value(.contact),
                phone: value(.phone),
                benefit: value(.benefit)
            )
        )
    }
}
