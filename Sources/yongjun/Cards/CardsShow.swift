import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a card: holder, category, validity, revocation, and phone access (activation, failed PINs, lock).",
        discussion: "Example: yongjun cards show LZ2024000123"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Card number.") var cardNo: String

    struct View: Encodable {
        let cardNo: String
        let name: String
        let category: String
        let categoryLabel: String
        let validUntil: String
        let status: String
        let revokeReason: String?
        let phone: String?
        let holderAccess: HolderAccountStatus?
    }

    func run() async throws {
        let found = try await global.withAdminStore { store -> (Card, HolderAccountStatus?)? in
            guard let card = try await store.card(number: cardNo) else { return nil }
            return (card, try await store.holderAccountStatus(cardNo: card.cardNo))
        }
        guard let (card, access) = found else { throw CLIFailure(message: "no card with card number \(cardNo)") }
        let view = View(
            cardNo: card.cardNo,
            name: card.name,
            category: card.category.rawValue,
            categoryLabel: card.category.label,
            validUntil: card.validUntil,
            status: card.status,
            revokeReason: card.revokeReason,
            phone: card.phone,
            holderAccess: access
        )
        let locked = access?.lockedUntil.flatMap(Timestamp.parse).map { $0 > Date() } ?? false
        let rows: [[String]] = [
            ["card", view.cardNo], ["name", view.name], ["category", "\(view.category) (\(view.categoryLabel))"], ["valid until", view.validUntil],
            ["status", view.status + (view.revokeReason.map { " — \($0)" } ?? "")], ["phone", view.phone ?? ""],
            [
                "phone access",
                access?.activationIssuedAt == nil && access?.activatedAt == nil
                    ? "no activation code issued" : (access?.activatedAt.map { "activated \($0)" } ?? "activation code issued, not used"),
            ],
            ["failed PINs", String(access?.failedAttempts ?? 0)],
            ["locked", locked ? "\(lockText(access)) — `yongjun cards unlock \(cardNo)` clears it" : "no"],
            ["locks in a row", String(access?.lockLevel ?? 0)],
        ]
        try output.emit(view, header: ["FIELD", "VALUE"], rows: rows)
    }
}

/// "until <time>", or that only the bureau can lift it.
private func lockText(_ access: HolderAccountStatus?) -> String {
    guard let until = access?.lockedUntil else { return "" }
    return until.hasPrefix("9999") ? "until the bureau unlocks it" : "until \(until)"
}
