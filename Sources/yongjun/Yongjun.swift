import ArgumentParser
import Foundation
import YongjunCore

/// `yongjun` — the bureau's tool and the server, in one binary.
@main
struct Yongjun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yongjun",
        abstract: "拥军 Yongjun: signed 优待证 codes, shop verification, and the bureau's admin tools.",
        discussion: """
            Every command works on one data directory (--data-dir, env YONGJUN_DATA_DIR, default ./data)
            holding the SQLite database and the key files.

            First steps:
              yongjun keys init
              yongjun cards import cards.csv
              yongjun merchants add --name "老兵汽修" --industry vehicle_repair
              yongjun merchants key 1
              yongjun serve --port 8080
            """,
        subcommands: [
            Serve.self, KeysCommand.self, CardsCommand.self, MerchantsCommand.self, BatchesCommand.self, ApplicationsCommand.self,
            ReportsCommand.self, AuditCommand.self, ConfigCommand.self, BackupCommand.self, RestoreCommand.self, ShopCommand.self,
            ReceiptsCommand.self, StoreCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot(GlobalOptions.hoistingLeadingGlobals(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIFailure {
            // Details quote import files and the register, which may carry control characters: escape them.
            for line in error.details { FileHandle.standardError.write(Data("yongjun: \(TerminalText.escape(line))\n".utf8)) }
            FileHandle.standardError.write(Data("yongjun: \(TerminalText.escape(error.message))\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as any UserFacingError {
            FileHandle.standardError.write(Data("yongjun: \(TerminalText.escape(error.description))\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
