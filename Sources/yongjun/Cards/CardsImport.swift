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
            Dates are YYYY-MM-DD. The file is UTF-8, with or without a BOM.
            Importing the same file again changes nothing; changed rows update the card.

            Example: yongjun cards import cards-2026-11.csv --dry-run
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The CSV file.")
    var file: String

    @Flag(help: "Check the file and report what would change, without writing anything.")
    var dryRun = false

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIFailure(message: "cannot read \(file): no such file or not readable")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw CLIFailure(message: "\(file) is not UTF-8 text; in Excel choose \"CSV UTF-8\" when saving")
        }
        let parsed = CardImport.parse(text)
        guard parsed.problems.isEmpty else {
            throw CLIFailure(
                message: "\(file): \(parsed.problems.count) bad line(s); nothing was imported. Fix them and run the import again.",
                details: parsed.problems.map { "\(file) \($0)" }
            )
        }
        let hasher = try global.keyStore.idNumberHasher()
        let summary = try global.openDatabase().importCards(parsed.cards, hasher: hasher, now: Date(), dryRun: dryRun)
        let verb = dryRun ? "would import" : "imported"
        print("\(verb) \(parsed.cards.count) card(s): \(summary.inserted) new, \(summary.updated) updated, \(summary.unchanged) unchanged")
        if dryRun { print("dry run: nothing was written") }
    }
}
