import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun merchants`: partner shops and their verification keys.
struct MerchantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchants",
        abstract: "Partner shops: register, list, issue keys, set benefit rules, suspend, reinstate, revoke.",
        subcommands: [
            MerchantsAdd.self, MerchantsList.self, MerchantsShow.self, MerchantsKey.self, MerchantsSuspend.self, MerchantsReinstate.self,
            MerchantsRevoke.self, MerchantsBenefits.self,
        ]
    )
}
