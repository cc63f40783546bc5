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
    enum Column: String, ImportColumn {
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

    }

    public struct Result: Sendable {
        public var applications: [ImportedApplication]
        public var problems: [ImportProblem]
    }

    /// `progress` is called with the number of rows checked so far, every 1,000 rows.
    public static func parse(_ text: String, progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        let outcome = CSVImport<Column>.parse(
            text,
            required: Column.allCases,
            noun: "application",
            progress: progress,
            validate: validate,
            uniqueKey: \.creditCode,
            duplicate: { application, first in
                "credit_code (统一社会信用代码) \(application.creditCode) already applies on line \(first); a shop applies once per batch"
            }
        )
        return Result(applications: outcome.values, problems: outcome.problems)
    }

    static func validate(_ row: CSVTable.Row, columns: [Column: Int]) -> Swift.Result<ImportedApplication, ImportProblem> {
        func value(_ column: Column) -> String { columns[column].map { row.fields[$0].trimmingWhitespace() } ?? "" }
        func problem(_ column: Column, _ reason: String) -> Swift.Result<ImportedApplication, ImportProblem> {
            .failure(ImportProblem(line: row.line, reason: "\(column.display) \(reason)"))
        }
        for column in Column.allCases {
            if let index = columns[column], let control = TerminalText.firstControlCharacter(in: row.fields[index]) {
                return problem(column, "contains the control character \(TerminalText.name(control)); type the text again without it")
            }
            if value(column).isEmpty { return problem(column, "is empty") }
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

    /// Validates one application typed into the web form (keys are the English column names).
    public static func validate(form: [String: String]) -> Swift.Result<ImportedApplication, ImportProblem> {
        let columns = Dictionary(uniqueKeysWithValues: Column.allCases.enumerated().map { ($1, $0) })
        return validate(CSVTable.Row(line: 0, fields: Column.allCases.map { form[$0.rawValue] ?? "" }), columns: columns)
    }
}
