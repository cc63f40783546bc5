import ArgumentParser
import Foundation
import YongjunServer

/// `yongjun config show`: the settings `serve` would run with, and where each came from.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the effective configuration.",
        subcommands: [ConfigShow.self]
    )
}

struct ConfigShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print every setting with its value and source (flag, environment, file, default); secrets hidden.",
        discussion: "Example: YONGJUN_PORT=8443 yongjun config show --config /etc/yongjun/yongjun.conf"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var server: ServerFlags
    @Flag(help: "Print JSON.") var json = false

    struct Row: Encodable {
        let key: String
        let value: String
        let source: String
    }

    func run() async throws {
        let (_, resolved) = try server.resolve(global: global)
        let rows = resolved.map { Row(key: $0.key, value: $0.value, source: $0.source.rawValue) }
        if json {
            try printJSON(rows)
        } else {
            printTable(["SETTING", "VALUE", "SOURCE"], rows.map { [$0.key, $0.value, $0.source] })
        }
    }
}
