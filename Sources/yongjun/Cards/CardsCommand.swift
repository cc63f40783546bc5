import ArgumentParser

/// `yongjun cards`: the register of 优待证 holders.
struct CardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cards",
        abstract: "Import cardholders, issue codes, revoke cards.",
        subcommands: [CardsImport.self, CardsCode.self, CardsRevoke.self, CardsActivation.self, CardsUnlock.self, CardsPrint.self, CardsShow.self]
    )
}
