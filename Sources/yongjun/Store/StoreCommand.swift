import ArgumentParser

/// `yongjun store …`: moving the register between stores.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move the register from the SQLite store to a shared PostgreSQL one.",
        subcommands: [StoreCopy.self]
    )
}
