import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct MerchantsSuspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suspend",
        abstract: "Suspend a shop: its verifications are refused (merchant_suspended) until reinstated.",
        discussion: "Example: yongjun merchants suspend 7 --reason \"门店装修暂停营业\""
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Merchant id.") var id: Int64
    @Option(help: "Why (kept on record).") var reason: String

    func validate() throws { try requireReason(reason) }

    func run() async throws {
        let audit = try global.audit()
        let merchant = try await global.withAdminStore { store in
            try await store.changeMerchantStatus(id: id, to: .suspended, reason: reason, now: Date(), audit: audit)
        }
        printLine("merchant \(id) (\(merchant.name)) suspended")
    }
}

struct MerchantsReinstate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinstate",
        abstract: "Reinstate a suspended shop; its current key works again.",
        discussion: "Example: yongjun merchants reinstate 7"
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Merchant id.") var id: Int64
    @Option(help: "Note for the record.") var note: String?

    func run() async throws {
        let audit = try global.audit()
        let merchant = try await global.withAdminStore { store in
            try await store.changeMerchantStatus(id: id, to: .active, reason: note, now: Date(), audit: audit)
        }
        printLine("merchant \(id) (\(merchant.name)) reinstated")
    }
}

struct MerchantsRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a shop's partnership for good (e.g. false advertising, refusing cardholders).",
        discussion: "Example: yongjun merchants revoke 7 --reason \"拒绝为持证人提供优惠\""
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Merchant id.") var id: Int64
    @Option(help: "Why (kept on record).") var reason: String

    func validate() throws { try requireReason(reason) }

    func run() async throws {
        let audit = try global.audit()
        let merchant = try await global.withAdminStore { store in
            try await store.changeMerchantStatus(id: id, to: .revoked, reason: reason, now: Date(), audit: audit)
        }
        printLine("merchant \(id) (\(merchant.name)) revoked")
    }
}

/// Refuses an empty or blank --reason.
func requireReason(_ reason: String) throws {
    guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("--reason must not be empty") }
}
