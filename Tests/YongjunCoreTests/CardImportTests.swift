import Crypto
import Foundation
import Testing
import YongjunVerifier

@testable import YongjunCore

@Suite("Cardholder CSV import")
struct CardImportTests {
    let id1 = validIDNumber("44188219650312123")
    let id2 = validIDNumber("44188219700101456")

    @Test("an English header with all columns imports every row")
    func englishHeader() {
        let result = CardImport.parse(
            """
            card_no,name,id_number,category,valid_until,phone
            LZ0001,张小三,\(id1),veteran,2030-12-31,13800138000
            LZ0002,李四,\(id2),军属,2029-06-30,
            """
        )
        #expect(result.problems.isEmpty)
        #expect(result.cards.map(\.cardNo) == ["LZ0001", "LZ0002"])
        #expect(result.cards[1].category == .militaryFamily)
        #expect(result.cards[0].phone == "13800138000")
        #expect(result.cards[1].phone == nil)
        #expect(result.cards[0].validUntil == CalendarDate(year: 2030, month: 12, day: 31))
    }

    @Test("a Chinese header in another order, with a BOM, CRLF line ends and quoted fields, imports")
    func chineseHeaderWithBOM() {
        let text = "\u{FEFF}类别,姓名,优待证号,有效期至,身份证号\r\n\"退役军人\",\"欧阳,小明\",LZ0003,2031-01-01,\(id1.lowercased())\r\n"
        let result = CardImport.parse(text)
        #expect(result.problems.isEmpty)
        #expect(result.cards.first?.name == "欧阳,小明")
        #expect(result.cards.first?.category == .veteran)
        #expect(result.cards.first?.idNumber.value == id1.uppercased())
    }

    @Test("every bad line is reported with its line number and reason, and no card is returned")
    func everyBadLineReported() {
        let badChecksum = String(id1.dropLast()) + (id1.last == "1" ? "2" : "1")
        let result = CardImport.parse(
            """
            card_no,name,id_number,category,valid_until
            LZ0001,张三,\(id1),veteran,2030-12-31
            LZ0002,李四,\(badChecksum),veteran,2030-12-31
            LZ0003,王五,\(id2),海军,2030-12-31
            LZ0004,赵六,\(id2),veteran,2030-02-30
            LZ0001,钱七,\(id2),veteran,2030-12-31
            LZ0006,,\(id2),veteran,2030-12-31
            LZ0007,孙八,\(id2),veteran
            """
        )
        #expect(result.cards.isEmpty)
        #expect(result.problems.map(\.line) == [3, 4, 5, 6, 7, 8])
        #expect(result.problems[0].reason.contains("id_number (身份证号)"))
        #expect(result.problems[0].reason.contains("GB 11643"))
        #expect(result.problems[1].reason.contains("\"海军\" is not a known category"))
        #expect(result.problems[2].reason.contains("2030-02-30"))
        #expect(result.problems[3].reason.contains("already appears on line 2"))
        #expect(result.problems[4].reason.contains("name (姓名) is empty"))
        #expect(result.problems[5].reason.contains("has 4 fields"))
    }

    @Test("a header missing a required column is refused naming the column")
    func missingColumn() {
        let result = CardImport.parse("card_no,name,category,valid_until\nLZ1,张三,veteran,2030-12-31\n")
        #expect(result.problems.count == 1)
        #expect(result.problems[0].line == 1)
        #expect(result.problems[0].reason.contains("id_number / 身份证号"))
    }

    @Test("an unclosed quote and an empty file are reported, not crashed on")
    func brokenFiles() {
        #expect(CardImport.parse("").problems.first?.reason.contains("empty") == true)
        let unclosed = CardImport.parse("card_no,name,id_number,category,valid_until\n\"LZ1,张三,\(id1),veteran,2030-12-31\n")
        #expect(unclosed.problems.first?.line == 2)
        #expect(unclosed.problems.first?.reason.contains("never closed") == true)
    }

    @Test("Excel's blank trailing rows are ignored")
    func blankRows() {
        let result = CardImport.parse("card_no,name,id_number,category,valid_until\nLZ1,张三,\(id1),veteran,2030-12-31\n,,,,\n\n")
        #expect(result.problems.isEmpty)
        #expect(result.cards.count == 1)
    }

    @Test("a phone number that is neither a mobile nor a landline is refused")
    func badPhone() {
        let result = CardImport.parse("card_no,name,id_number,category,valid_until,phone\nLZ1,张三,\(id1),veteran,2030-12-31,2030-12-31\n")
        #expect(result.problems.first?.reason.contains("phone (手机号)") == true)
        #expect(PhoneNumber.isPlausible("0763-1234567"))
        #expect(PhoneNumber.isPlausible("13800138000"))
        #expect(!PhoneNumber.isPlausible("12345"))
    }
}

@Suite("ID numbers, names and dates")
struct ValidationTests {
    @Test("GB 11643 check characters are computed and verified, including X")
    func checksum() throws {
        #expect(try ChineseIDNumber("11010519491231002X").value == "11010519491231002X")
        #expect(try ChineseIDNumber("11010519491231002x").value == "11010519491231002X")
        #expect(throws: ChineseIDNumber.Problem.badChecksum(expected: "X", found: "1")) { try ChineseIDNumber("110105194912310021") }
        #expect(throws: ChineseIDNumber.Problem.wrongLength(17)) { try ChineseIDNumber("11010519491231002") }
        #expect(throws: ChineseIDNumber.Problem.invalidCharacters) { try ChineseIDNumber("1101051949123100AX") }
        #expect(throws: ChineseIDNumber.Problem.badBirthDate) { try ChineseIDNumber(validIDNumber("11010519491331002")) }
    }

    @Test(
        "names are masked to first and last character",
        arguments: [
            ("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("买买提·艾力", "买****力"), ("王", "*"), (" 李四 ", "李*"),
        ]
    )
    func masking(_ name: String, _ masked: String) {
        #expect(NameMask.mask(name) == masked)
    }

    @Test("calendar dates parse strictly and follow the China day")
    func dates() {
        #expect(CalendarDate(iso: "2024-02-29") != nil)
        #expect(CalendarDate(iso: "2023-02-29") == nil)
        #expect(CalendarDate(iso: "2024/02/01") == nil)
        #expect(CalendarDate(iso: "2024-2-1") == nil)
        // 2026-11-28 16:30 UTC is already 2026-11-29 00:30 in China.
        let lateEvening = Date(timeIntervalSince1970: 1_795_883_400)
        #expect(CalendarDate(chinaDayOf: lateEvening).description == "2026-11-29")
        let day = CalendarDate(year: 2026, month: 11, day: 29)!
        #expect(CalendarDate(daysSinceEpoch: day.daysSinceEpoch) == day)
        #expect(Timestamp.iso(Date(timeIntervalSince1970: 1_795_883_400.25)) == "2026-11-28T16:30:00.250Z")
        #expect(Timestamp.parse("2026-11-28T16:30:00.250Z") == Date(timeIntervalSince1970: 1_795_883_400.25))
    }

    @Test("a card is refused when revoked or after its valid-until day, not on that day")
    func cardStanding() {
        let until = CalendarDate(year: 2026, month: 12, day: 31)!
        let card = CardStanding(cardID: "c", category: .veteran, validUntil: until, revoked: false)
        #expect(card.rejection(today: until) == nil)
        #expect(card.rejection(today: CalendarDate(year: 2027, month: 1, day: 1)!) == .cardExpired)
        let revoked = CardStanding(cardID: "c", category: .veteran, validUntil: until, revoked: true)
        #expect(revoked.rejection(today: until) == .cardRevoked)
    }

    @Test("categories are accepted by code or Chinese label")
    func categories() {
        #expect(CardCategory(codeOrLabel: "因公牺牲军人遗属") == .dutyDeathFamily)
        #expect(CardCategory(codeOrLabel: " Veteran ") == .veteran)
        #expect(CardCategory(codeOrLabel: "soldier") == nil)
        #expect(CardCategory(codeOrLabel: "残疾军人") == .disabledServiceman)
        #expect(CardCategory(codeOrLabel: "disabled_serviceman") == .disabledServiceman)
        // Eight categories, each with its own label.
        #expect(Set(CardCategory.allCases.map(\.label)).count == 8)
    }
}

@Suite("Encodings and merchant keys")
struct EncodingTests {
    @Test("base64url round-trips every length and refuses padding and foreign characters")
    func base64url() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("YQ==") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("YR") == nil)  // non-zero trailing bits
    }

    @Test("a merchant key parses back, matches only its own hash, and rejects look-alikes")
    func merchantKey() {
        var generator = SeededGenerator(state: 11)
        let key = MerchantAPIKey.generate(using: &generator)
        let other = MerchantAPIKey.generate(using: &generator)
        let parsed = MerchantAPIKey(parsing: key.text)
        #expect(parsed?.keyID == key.keyID)
        #expect(parsed?.matches(storedHash: key.secretHash) == true)
        #expect(parsed?.matches(storedHash: other.secretHash) == false)
        #expect(MerchantAPIKey(parsing: "yjk_short") == nil)
        #expect(MerchantAPIKey(parsing: key.text.replacingOccurrences(of: "yjk_", with: "abc_")) == nil)
        #expect(!key.secretHash.contains(key.secret))
    }
}

@Suite("Hostile import input")
struct HostileImportTests {
    @Test("a field padded with a thousand spaces is trimmed, and a field over 4096 characters stops the file at its line")
    func hugeFields() {
        let padded = CardImport.parse(
            "card_no,name,id_number,category,valid_until\nLZ1,\u{3000}张三\(String(repeating: " ", count: 1000)),\(validIDNumber("44188219650312123")),veteran,2099-12-31\n"
        )
        #expect(padded.problems.isEmpty)
        #expect(padded.cards.first?.name == "张三")
        let huge = CardImport.parse(
            "card_no,name,id_number,category,valid_until\nLZ1,张三,\(validIDNumber("44188219650312123")),veteran,2099-12-31\nLZ2,\(String(repeating: "李", count: 5000)),\(validIDNumber("44188219700101456")),veteran,2099-12-31\n"
        )
        #expect(huge.cards.isEmpty)
        #expect(huge.problems.map { $0.line } == [3])
        #expect(huge.problems.first?.reason.contains("longer than 4096") == true)
    }
}

@Suite("Cardholder files read as a stream")
struct CardStreamTests {
    /// The checking pass as `cards import` runs it: pieces of `size` bytes, then the duplicate look if needed.
    func check(_ text: String, pieceSize: Int) -> (cards: [ImportedCard], problems: [ImportProblem]) {
        let bytes = Array(text.utf8)
        func pass(_ body: (CardRowReader.Row) -> Void) -> ImportProblem? {
            var reader = CardRowReader()
            var found = false
            do {
                for start in stride(from: 0, to: bytes.count, by: pieceSize) {
                    for row in try reader.read(Array(bytes[start..<min(start + pieceSize, bytes.count)])) {
                        found = true
                        body(row)
                    }
                }
                for row in try reader.finish() {
                    found = true
                    body(row)
                }
            } catch {
                return error
            }
            return reader.endProblem(rowsFound: found)
        }
        var check = CardFileCheck()
        var cards: [ImportedCard] = []
        if let problem = pass({ row in
            check.add(row)
            if case .card(let card, _) = row { cards.append(card) }
        }) {
            check.fail(problem)
        }
        if var duplicates = check.duplicateCheck() {
            _ = pass { duplicates.add($0) }
            check.add(duplicates)
        }
        return (check.problems.isEmpty ? cards : [], check.problems)
    }

    let files: [String] = {
        let id1 = validIDNumber("44188219650312123")
        let id2 = validIDNumber("44188219700101456")
        return [
            "\u{FEFF}类别,姓名,优待证号,有效期至,身份证号\r\n\"退役军人\",\"欧阳,\"\"小明\"\"\",LZ0003,2031-01-01,\(id1)\r\n军属,\"李\r\n四\",LZ0004,2031-01-01,\(id2)",
            "card_no,name,id_number,category,valid_until\nLZ1,张三,\(id1),veteran,2030-12-31\nLZ2,李四,\(id2),veteran,2030-02-30\n,,,,\n\nLZ1,王五,\(id2),veteran,2030-12-31\nLZ3,赵六,\(id2),veteran\nLZ1,钱七,\(id1),veteran,2030-12-31\n",
            "card_no,name,id_number,category,valid_until\nLZ1,张三,\(id1),veteran,2030-12-31\nLZ2,\"李四\"x,\(id2),veteran,2030-12-31\nLZ3,王五,\(id2),veteran,2030-12-31\n",
            "card_no,name,category,valid_until\nLZ1,张三,veteran,2030-12-31\n",
            "card_no,name,id_number,category,valid_until\n",
            "",
            "\u{FEFF}",
            "card_no,name,id_number,category,valid_until\n\"LZ1,张三,\(id1),veteran,2030-12-31\n",
        ]
    }()

    @Test("fed in pieces of any size, a file gives the same cards and problems as when parsed whole", arguments: [1, 2, 3, 7, 64, 1 << 20])
    func piecesAgreeWithWhole(_ pieceSize: Int) {
        for text in files {
            let whole = CardImport.parse(text)
            let streamed = check(text, pieceSize: pieceSize)
            #expect(streamed.cards == whole.cards, "\(text.debugDescription)")
            #expect(streamed.problems == whole.problems, "\(text.debugDescription)")
        }
    }

    @Test("a card number repeated thousands of lines later, across many pieces, is named with its first line")
    func duplicatesAcrossPieces() {
        var text = "card_no,name,id_number,category,valid_until\n"
        for n in 1...5000 { text += "LZ\(n),张三,\(validIDNumber("44188219650312123")),veteran,2030-12-31\n" }
        text += "LZ17,李四,\(validIDNumber("44188219700101456")),veteran,2030-12-31\n"
        text += "LZ4999,王五,\(validIDNumber("44188219700101456")),veteran,2030-12-31\n"
        let result = check(text, pieceSize: 4096)
        #expect(result.cards.isEmpty)
        #expect(result.problems.map(\.line) == [5002, 5003])
        #expect(result.problems[0].reason == "card_no (优待证号) LZ17 already appears on line 18")
        #expect(result.problems[1].reason == "card_no (优待证号) LZ4999 already appears on line 5000")
    }

    @Test("an unreadable row late in the file is the only problem reported, as for a whole file")
    func lateParseError() {
        var text = "card_no,name,id_number,category,valid_until\nLZ0,,x,veteran,2030-12-31\n"
        for n in 1...3000 { text += "LZ\(n),张三,\(validIDNumber("44188219650312123")),veteran,2030-12-31\n" }
        text += "LZ9,\"张三\" ,\(validIDNumber("44188219650312123")),veteran,2030-12-31\n"
        let result = check(text, pieceSize: 1000)
        #expect(result.problems == [ImportProblem(line: 3003, reason: "text after a closing quote; a quoted field must end at a comma or line end")])
        #expect(result.problems == CardImport.parse(text).problems)
    }

    @Test("GB18030 pieces cut after a line feed decode to the same text as the whole file")
    func gb18030Pieces() throws {
        let name: [UInt8] = [0xC3, 0xC5, 0xB5, 0xEA, 0xC3, 0xFB, 0xB3, 0xC6]  // 门店名称
        let file = Array("LZ1,".utf8) + name + [0x0A] + Array("LZ2,".utf8) + name + [0x0D, 0x0A]
        #expect(TextDecoding.utf8Bytes(file, from: .utf8) == nil)
        var decoded: [UInt8] = []
        var start = 0
        while let end = file[start...].firstIndex(of: 0x0A) {
            decoded += try #require(TextDecoding.utf8Bytes(Array(file[start...end]), from: .gb18030))
            start = end + 1
        }
        #expect(String(decoding: decoded, as: UTF8.self) == "LZ1,门店名称\nLZ2,门店名称\r\n")
        #expect(TextDecoding.utf8Bytes([0xFF, 0xFF, 0x0A], from: .gb18030) == nil)
    }
}

/// The import's byte-level fast paths must give exactly the general paths' answers: they are only a shortcut.
@Suite("Import fast paths")
struct ImportFastPathTests {
    @Test("an ID number read byte by byte is accepted exactly when the general check accepts it, with the same value")
    func idNumberFastPathAgrees() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789xX")
        var accepted = 0
        for round in 0..<40_000 {
            var characters = (0..<17).map { _ in alphabet[Int.random(in: 0..<10, using: &generator)] }
            // Plausible birth dates half the time, so the checksum and the date checks are both reached often.
            if round % 2 == 0 {
                characters.replaceSubrange(6..<14, with: Array(["19", "20", "18"].randomElement()! + "0\(Int.random(in: 1...9))0229"))
            }
            let first17 = String(characters)
            let check = round % 3 == 0 ? alphabet.randomElement(using: &generator)! : ChineseIDNumber.checkCharacter(for: first17) ?? "0"
            var text = first17 + String(round % 5 == 0 ? Character(check.lowercased()) : check)
            if round % 97 == 0 { text = " " + text }  // not the plain form: left to the general path
            let general = Result { try ChineseIDNumber.checked(text) }
            switch ChineseIDNumber.plainASCII(text) {
            case .some(let fast):
                accepted += 1
                #expect(fast == (try? general.get()), "\(text)")
            case .none:
                if text.utf8.count == 18, text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
                    #expect((try? general.get()) == nil, "the general path accepts \(text), the fast path does not")
                }
            }
            #expect((try? ChineseIDNumber(text).value) == (try? general.get()))
        }
        #expect(accepted > 1_000, "the sample reaches the accepting branch")
    }

    @Test("the ID hash is HMAC-SHA256 of the number, the same on every call")
    func hasherIsStable() throws {
        let key = Array(repeating: UInt8(9), count: 32)
        let hasher = IDNumberHasher(keyBytes: key)
        let id = try ChineseIDNumber("44188219600101000" + String(ChineseIDNumber.checkCharacter(for: "44188219600101000")!))
        let expected = Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(id.value.utf8), using: SymmetricKey(data: key))))
        #expect(hasher.hash(id) == expected)
        #expect(hasher.hash(id) == expected, "a second hash from the same hasher")
        let other = try ChineseIDNumber("44188219600101001" + String(ChineseIDNumber.checkCharacter(for: "44188219600101001")!))
        #expect(hasher.hash(other) != expected)
    }

    @Test("categories by exact code, exact label, padded or upper-case code")
    func categories() {
        for category in CardCategory.allCases {
            #expect(CardCategory(codeOrLabel: category.rawValue) == category)
            #expect(CardCategory(codeOrLabel: category.label) == category)
            #expect(CardCategory(codeOrLabel: " \(category.rawValue.uppercased()) ") == category)
            #expect(CardCategory(codeOrLabel: "\u{3000}\(category.label)") == category)
        }
        #expect(CardCategory(codeOrLabel: "veteranx") == nil)
    }
}

@Suite("Card ids for an import")
struct AscendingCardIDTests {
    @Test("each id is 16 of the base-32 characters, larger than the one before, and after `count` plain random ones")
    func ascendingThenRandom() {
        var generator = SystemRandomNumberGenerator()
        var ids = AscendingCardIDs(count: 5_000)
        let drawn = (0..<5_000).map { _ in ids.next(using: &generator) }
        let characters = Set("abcdefghijkmnpqrstuvwxyz23456789")
        #expect(drawn.allSatisfy { $0.count == 16 && $0.allSatisfy(characters.contains) })
        #expect(zip(drawn, drawn.dropFirst()).allSatisfy { $0 < $1 }, "byte order follows the order drawn")
        #expect(Set(drawn).count == drawn.count)
        #expect(drawn.first! < "3", "the first stretch starts at the bottom of the range")
        #expect(drawn.last! > "z", "the last stretch reaches the top")
        let more = (0..<50).map { _ in ids.next(using: &generator) }
        #expect(more.allSatisfy { $0.count == 16 && $0.allSatisfy(characters.contains) })
        #expect(zip(more, more.dropFirst()).contains { $0 > $1 }, "past the count the ids are in no order")
        var again = AscendingCardIDs(count: 5_000)
        #expect(again.next(using: &generator) != drawn[0], "random within each stretch")
    }
}

@Suite("Status-list entries for an import")
struct StatusIndexBitmapTests {
    @Test("sized as the allocator sizes the list, past the highest entry given, and never drawing a taken entry")
    func bitmap() {
        #expect(StatusIndexBitmap(existing: 0, highest: -1, adding: 10).capacity == StatusIndexAllocator.capacity(cards: 10))
        #expect(StatusIndexBitmap(existing: 3, highest: 1_000_000, adding: 0).capacity == StatusIndexAllocator.capacity(cards: 1_000_001))
        var bitmap = StatusIndexBitmap(existing: 0, highest: -1, adding: 100)
        var generator = SystemRandomNumberGenerator()
        var drawn = Set<Int>()
        for _ in 0..<100 {
            let index = bitmap.draw(using: &generator)
            #expect(!bitmap.isTaken(index) && (0..<bitmap.capacity).contains(index))
            bitmap.take(index)
            drawn.insert(index)
        }
        #expect(drawn.count == 100, "no entry drawn twice once taken")
    }
}
