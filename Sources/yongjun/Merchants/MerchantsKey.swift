import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

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
        let audit = try global.audit()
        try await global.withAdminStore { store in try await store.replaceMerchantKey(merchantID: id, with: key, now: Date(), audit: audit) }
        print(key.text)
    }
}
