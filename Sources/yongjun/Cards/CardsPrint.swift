import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsPrint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Write a printable A6 credential (HTML with an SVG QR code) for holders without a smartphone.",
        discussion: """
            The code is signed to stay valid until the card's valid-until day; revoking the card refuses it at
            once. A shop accepts it once per day. Several card numbers give one page per card, ready to print.

            Example: yongjun cards print LZ2024000123 --out 陈建国.html
                     yongjun cards print LZ2024000001 LZ2024000002 --out 第一批纸质凭证.html
                     yongjun cards print --numbers 第一批.txt --out 第一批纸质凭证.html
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Card number(s).") var cardNumbers: [String] = []
    @Option(help: CardNumberFile.help) var numbers: String?
    @Option(help: "The HTML file to write.") var out: String

    func validate() throws {
        guard !cardNumbers.isEmpty || numbers != nil else { throw ValidationError("give at least one card number") }
    }

    func run() async throws {
        guard let key = try global.keyStore.loadKeyRing().current else { throw CLIFailure(message: "no signing key; run `yongjun keys init`") }
        let now = Date()
        let all = try CardNumberFile.numbers(cardNumbers, file: numbers)
        let printed = try await global.withAdminStore { store in
            let issuer = CodeIssuer(key: key, issuer: "yongjun", statusListURI: try await store.statusListURIForCodes())
            let cards = try await store.cardsForIssuing(numbers: all, today: CalendarDate(chinaDayOf: now))
            try writePages(cards, issuer: issuer, now: now)
            try await store.recordAudit(try global.audit(), AuditNote(action: "cards.print", subject: all.joined(separator: ",")), now: now)
            return cards.count
        }
        print("wrote \(printed) printable credential(s) to \(out)")
    }

    /// Writes page by page (10^4 pages are 400 MB of HTML); a failure part-way removes the file.
    private func writePages(_ cards: [Card], issuer: CodeIssuer, now: Date) throws {
        guard FileManager.default.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o600]),
            let file = FileHandle(forWritingAtPath: out)
        else { throw CLIFailure(message: "cannot write \(out)") }
        var generator = SystemRandomNumberGenerator()
        do {
            defer { try? file.close() }
            var buffer = PrintedCredential.head
            for card in cards {
                guard let until = CalendarDate(iso: card.validUntil) else { throw CLIFailure(message: "card \(card.cardNo) has no valid-until date") }
                let expires = (until.daysSinceEpoch + 1) * 86_400 - CalendarDate.chinaOffsetSeconds
                // Verifiers refuse lifetimes beyond `CodeClaims.longestLifetime`; the page shows the code's own end.
                let lifetime = min(expires - Int(now.timeIntervalSince1970), CodeClaims.longestLifetime)
                let code = try issuer.issue(for: card.codeSubject, now: now, lifetime: lifetime, using: &generator)
                let qr = try QRCode(text: code.token, errorCorrection: .medium).svg(moduleSize: 3)
                buffer += PrintedCredential.page(
                    holder: code.claims.name,
                    category: card.category.label,
                    cardNo: card.cardNo,
                    validUntil: lastDay(of: code),
                    qr: qr
                )
                if buffer.utf8.count > 1 << 20 {
                    try file.write(contentsOf: Data(buffer.utf8))
                    buffer = ""
                }
            }
            try file.write(contentsOf: Data((buffer + PrintedCredential.tail).utf8))
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            throw error
        }
    }
}

/// The printed credential: A6 pages with the holder's masked name, category, card number, QR code and validity.
enum PrintedCredential {
    static func page(holder: String, category: String, cardNo: String, validUntil: String, qr: String) -> String {
        """
        <section class="card"><h1>优待证电子凭证</h1><p class="who">\(HTMLText.escape(holder)) · \(HTMLText.escape(category))</p>
        <div class="qr">\(qr)</div><p>证号 \(HTMLText.escape(cardNo))</p><p>有效期至 \(HTMLText.escape(validUntil))</p>
        <p class="small">请在合作商户结账时出示本凭证和优待证原件。遗失请联系连州市退役军人事务局。</p></section>
        """
    }

    /// Everything before the first page.
    static let head = """
        <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>优待证电子凭证</title><style>
        @page{size:A6;margin:6mm}body{margin:0;font-family:"Noto Sans CJK SC",sans-serif;color:#000}
        .card{width:93mm;height:136mm;page-break-after:always;text-align:center;border:1px solid #000;padding:4mm;box-sizing:border-box}
        h1{font-size:18pt;margin:0 0 2mm}.who{font-size:16pt;font-weight:700;margin:0}.qr svg{width:70mm;height:70mm}
        p{font-size:12pt;margin:1mm 0}.small{font-size:9pt}
        </style></head><body>
        """

    /// Everything after the last page.
    static let tail = "</body></html>"
}

/// The China calendar day on which a printed code stops being accepted (its `exp` is the next midnight).
private func lastDay(of code: IssuedCode) -> String {
    CalendarDate(chinaDayOf: code.claims.expiresAt.addingTimeInterval(-1)).description
}
