import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

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
        let audit = try global.audit()
        let merchant = try await global.withAdminStore { store in
            try await store.addMerchant(
                name: name.trimmingCharacters(in: .whitespaces),
                industry: Industry(codeOrLabel: industry) ?? .other,
                address: address,
                benefit: benefit,
                now: Date(),
                audit: audit
            )
        }
        print(merchant.id ?? 0)
    }
}
