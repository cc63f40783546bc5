import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import or update cardholders from a CSV file (all rows or none).",
        discussion: """
            The first row names the columns, in English or Chinese, in any order:
              card_no,name,id_number,category,valid_until,phone
              优待证号,姓名,身份证号,类别,有效期至,手机号
            phone (手机号) may be left out. category takes a code or its label, e.g. veteran or 退役军人.
            Dates are YYYY-MM-DD. The file is UTF-8 (with or without a BOM) or GB18030/GBK, detected
            automatically or set with --encoding.
            Importing the same file again changes nothing; changed rows update the card.

            Example: yongjun cards import cards-2026-11.csv --dry-run
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(help: "Check the file and report what would change, without writing anything.")
    var dryRun = false

    @Option(help: "utf-8 or gb18030 (gbk); detected when left out.")
    var encoding: String?

    func run() async throws {
        let text = try readCSVFile(file, encoding: encoding)
        let progress = Progress("checked rows")
        let parsed = CardImport.parse(text, progress: progress.update)
        guard parsed.problems.isEmpty else { throw refuseImport(file, parsed.problems) }
        let hasher = try global.keyStore.idNumberHasher()
        let summary = try global.openDatabase().importCards(
            parsed.cards,
            hasher: hasher,
            now: Date(),
            dryRun: dryRun,
            audit: try global.audit(),
            source: (file as NSString).lastPathComponent
        )
        let verb = dryRun ? "would import" : "imported"
        print("\(verb) \(parsed.cards.count) card(s): \(summary.inserted) new, \(summary.updated) updated, \(summary.unchanged) unchanged")
        if dryRun { print("dry run: nothing was written") }
    }
}
