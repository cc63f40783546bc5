import ArgumentParser
import Foundation
import YongjunStorage

struct CardsRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a card: every code for it is refused from now on.",
        discussion: "Example: yongjun cards revoke LZ2024000123 --reason \"证件遗失，已补办\""
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Card number (优待证号).")
    var cardNo: String

    @Option(help: "Why the card is revoked (kept on record).")
    var reason: String

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must not be empty") }
    }

    func run() async throws {
        let audit = try global.audit()
        try await global.withAdminStore { store in try await store.revokeCard(number: cardNo, reason: reason, now: Date(), audit: audit) }
        print("card \(cardNo) revoked")
    }
}
