import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun merchants`: partner shops and their verification keys.
struct MerchantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchants",
        abstract: "Register partner shops and issue their verification keys.",
        subcommands: [MerchantsAdd.self, MerchantsKey.self]
    )
}

struct MerchantsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register an active partner shop directly and print its id.",
        discussion: "Example: yongjun merchants add --name \"老兵汽修\" --industry vehicle_repair --benefit \"凭优待证享9折\""
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Shop name.")
    var name: String

    @Option(help: "Industry: \(Industry.acceptedValues).")
    var industry: String

    @Option(help: "Street address.")
    var address: String?

    @Option(help: "The benefit offered to cardholders, e.g. 凭优待证享9折.")
    var benefit: String?

    func validate() throws {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
        guard Industry(codeOrLabel: industry) != nil else {
            throw ValidationError("--industry \(industry) is not known; use one of \(Industry.acceptedValues)")
        }
    }

    func run() async throws {
        let merchant = try global.openDatabase().addMerchant(
            name: name.trimmingCharacters(in: .whitespaces),
            industry: Industry(codeOrLabel: industry) ?? .other,
            address: address,
            benefit: benefit,
            now: Date()
        )
        print(merchant.id ?? 0)
    }
}

struct MerchantsKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Issue a new verification key for a shop; its previous key stops working at once.",
        discussion: "Example: yongjun merchants key 3\nThe key is printed once on stdout and only its hash is stored: hand it to the shop now."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Merchant id.")
    var id: Int64

    func run() async throws {
        var generator = SystemRandomNumberGenerator()
        let key = MerchantAPIKey.generate(using: &generator)
        try global.openDatabase().replaceMerchantKey(merchantID: id, with: key, now: Date())
        print(key.text)
    }
}
