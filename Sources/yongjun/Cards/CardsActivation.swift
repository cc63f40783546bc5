import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsActivation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activation",
        abstract: "Issue one-time activation codes for holders' phones (a new code resets the holder's PIN).",
        discussion: """
            Prints one code per card on stdout, or with --csv writes card_no,name,activation_code (UTF-8 with BOM)
            for a mail merge. Only a hash of each code is kept; print and hand them out now.

            Example: yongjun cards activation LZ2024000123
                     yongjun cards activation --csv 激活码.csv LZ2024000001 LZ2024000002
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Card number(s).") var cardNumbers: [String]
    @Option(help: "Write a mail-merge CSV here instead of printing.") var csv: String?

    func validate() throws {
        guard !cardNumbers.isEmpty else { throw ValidationError("give at least one card number") }
    }

    func run() async throws {
        let audit = try global.audit()
        let rows = try await global.withAdminStore { store in
            var generator = SystemRandomNumberGenerator()
            var rows: [[String]] = []
            for cardNo in cardNumbers {
                let code = HolderSecret.activationCode(using: &generator)
                try await store.issueActivation(cardNo: cardNo, code: code, now: Date(), audit: audit)
                rows.append([cardNo, try await store.card(number: cardNo)?.name ?? "", code])
            }
            return rows
        }
        if let csv {
            let text = csvText(["card_no", "name", "activation_code"], rows)
            guard FileManager.default.createFile(atPath: csv, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIFailure(message: "cannot write \(csv); the activation codes were issued, run the command again to issue new ones")
            }
            print("wrote \(rows.count) activation code(s) to \(csv)")
        } else {
            print(rows.map { $0[2] }.joined(separator: "\n"))
        }
    }
}

struct CardsUnlock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Clear a holder's lock after too many wrong PINs (check who is asking first).",
        discussion: "Example: yongjun cards unlock LZ2024000123"
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Card number.") var cardNo: String

    func run() async throws {
        let audit = try global.audit()
        try await global.withAdminStore { store in try await store.unlockHolder(cardNo: cardNo, now: Date(), audit: audit) }
        print("card \(cardNo) unlocked")
    }
}
