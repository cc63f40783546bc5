/// One cardholder row from the bureau's CSV, validated.
public struct ImportedCard: Sendable, Equatable {
    /// 优待证号
    public var cardNo: String
    public var name: String
    public var idNumber: ChineseIDNumber
    public var category: CardCategory
    public var validUntil: CalendarDate
    public var phone: String?
    /// 残疾等级 1…10 (一级 is the most severe); only a 残疾军人 card has one.
    public var disabilityGrade: Int? = nil
}

/// 残疾等级: 一级…十级, written as Chinese numerals or digits (1级, 3).
public enum DisabilityGrade {
    static let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]

    /// 1…10 from "三级", "三", "3级" or "3"; nil for anything else.
    public static func parse(_ text: String) -> Int? {
        var body = text.trimmingWhitespace()
        if body.hasSuffix("级") { body.removeLast() }
        if let number = Int(body), (1...10).contains(number) { return number }
        return numerals.firstIndex(of: body).map { $0 + 1 }
    }

    /// 一级…十级.
    public static func label(_ grade: Int) -> String { (1...10).contains(grade) ? numerals[grade - 1] + "级" : "\(grade)" }
}

/// A bad line in an import file: which line, and what to fix.
public struct ImportProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

/// Reads the cardholders CSV: header in English or Chinese, columns in any order.
///
/// Either every row is good and `cards` holds them all, or `problems` lists every bad line; never a part.
public enum CardImport {
    enum Column: String, ImportColumn {
        case cardNo = "card_no"
        case name
        case idNumber = "id_number"
        case category
        case validUntil = "valid_until"
        case phone
        case disabilityGrade = "disability_grade"

        var chinese: String {
            switch self {
            case .cardNo: "优待证号"
            case .name: "姓名"
            case .idNumber: "身份证号"
            case .category: "类别"
            case .validUntil: "有效期至"
            case .phone: "手机号"
            case .disabilityGrade: "残疾等级"
            }
        }

    }

    public struct Result: Sendable {
        public var cards: [ImportedCard]
        public var problems: [ImportProblem]
    }

    /// `progress` is called with the number of rows checked so far, every 1,000 rows.
    public static func parse(_ text: String, progress: (Int, Int) -> Void = { _, _ in }) -> Result {
        let outcome = CSVImport<Column>.parse(
            text,
            required: requiredColumns,
            noun: "cardholder",
            progress: progress,
            validate: validate,
            uniqueKey: \.cardNo,
            duplicate: duplicateReason
        )
        return Result(cards: outcome.values, problems: outcome.problems)
    }

    static let requiredColumns = Column.allCases.filter { $0 != .phone && $0 != .disabilityGrade }

    static func duplicateReason(_ card: ImportedCard, _ firstLine: Int) -> String {
        "card_no (优待证号) \(card.cardNo) already appears on line \(firstLine)"
    }

    static func validate(_ row: CSVTable.Row, columns: [Column: Int]) -> Swift.Result<ImportedCard, ImportProblem> {
        // Byte-level fast paths (ImportText) for the plain ASCII a province's 10^6 rows mostly are; same answers.
        func value(_ column: Column) -> String { columns[column].map { ImportText.trimmed(row.fields[$0]) } ?? "" }
        func problem(_ column: Column, _ reason: String) -> Swift.Result<ImportedCard, ImportProblem> {
            .failure(ImportProblem(line: row.line, reason: "\(column.display) \(reason)"))
        }
        if columns.values.contains(where: { ImportText.mayHoldControlCharacter(row.fields[$0]) }) {
            for (column, index) in columns.sorted(by: { $0.value < $1.value }) {
                if let control = TerminalText.firstControlCharacter(in: row.fields[index]) {
                    return problem(column, "contains the control character \(TerminalText.name(control)); remove it in the spreadsheet")
                }
            }
        }
        let cardNo = value(.cardNo)
        guard !cardNo.isEmpty else { return problem(.cardNo, "is empty") }
        guard cardNo.utf8.count <= 32, cardNo.utf8.allSatisfy(ImportText.isCardNumberByte) else {
            return problem(.cardNo, "\"\(cardNo)\" must be 1-32 letters, digits or hyphens")
        }
        let name = value(.name)
        guard !name.isEmpty else { return problem(.name, "is empty") }
        guard name.utf8.count <= 40 || name.count <= 40 else { return problem(.name, "is longer than 40 characters") }
        let idNumber: ChineseIDNumber
        do {
            idNumber = try ChineseIDNumber(value(.idNumber))
        } catch {
            return problem(.idNumber, error.description)
        }
        let categoryText = value(.category)
        guard let category = CardCategory(codeOrLabel: categoryText) else {
            return problem(.category, "\"\(categoryText)\" is not a known category; use one of \(CardCategory.acceptedValues)")
        }
        let dateText = value(.validUntil)
        guard let validUntil = CalendarDate(iso: dateText) else {
            return problem(.validUntil, "\"\(dateText)\" is not a date written YYYY-MM-DD")
        }
        let phone = value(.phone)
        if !phone.isEmpty, !PhoneNumber.isPlausible(phone) {
            return problem(.phone, "\"\(phone)\" is not a mobile number (11 digits starting with 1) or a landline like 0763-1234567")
        }
        let gradeText = value(.disabilityGrade)
        var disabilityGrade: Int?
        if !gradeText.isEmpty {
            guard category == .disabledServiceman else {
                return problem(.disabilityGrade, "is only for 残疾军人 (disabled_serviceman) cards; this row's category is \(category.label)")
            }
            guard let grade = DisabilityGrade.parse(gradeText) else {
                return problem(.disabilityGrade, "\"\(gradeText)\" is not a grade from 一级 to 十级 (or 1 to 10)")
            }
            disabilityGrade = grade
        }
        return .success(
            ImportedCard(
                cardNo: cardNo,
                name: name,
                idNumber: idNumber,
                category: category,
                validUntil: validUntil,
                phone: phone.isEmpty ? nil : phone,
                disabilityGrade: disabilityGrade
            )
        )
    }
}

/// Light checks on Chinese phone numbers: enough to catch a shifted column, not a numbering-plan database.
public enum PhoneNumber {
    public static func isPlausible(_ text: String) -> Bool {
        var digits = 0
        var first: UInt8?
        var hyphen = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                if first == nil { first = byte }
            case UInt8(ascii: "-"): hyphen = true
            case UInt8(ascii: " "): continue
            default: return false
            }
        }
        if digits == 11, first == UInt8(ascii: "1"), !hyphen { return true }
        return first == UInt8(ascii: "0") && (10...12).contains(digits)
    }
}

/// Byte-level answers to questions the import asks of every field, equal to the Character-level ones.
enum ImportText {
    /// `text.trimmingWhitespace()`, without walking Unicode properties when both ends are visible ASCII.
    static func trimmed(_ text: String) -> String {
        if let first = text.utf8.first, let last = text.utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) { return text }
        return text.trimmingWhitespace()
    }

    /// False only when `text` has no C0, DEL or C1 (U+0080–U+009F, bytes C2 80–C2 9F) character.
    static func mayHoldControlCharacter(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }
    }

    /// True when `text` has a visible ASCII character, so it is not blank whatever else it holds.
    static func hasVisibleASCII(_ text: String) -> Bool {
        text.utf8.contains { (0x21...0x7E).contains($0) }
    }

    /// ASCII letters, digits and the hyphen: the only characters of a card number.
    static func isCardNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
