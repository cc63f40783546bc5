import ArgumentParser
import Foundation
import YongjunStorage

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (env YONGJUN_DATA_DIR, default ./data).")
    var dataDir: String?

    var dataDirectory: DataDirectory {
        DataDirectory(path: dataDir ?? ProcessInfo.processInfo.environment["YONGJUN_DATA_DIR"] ?? "./data")
    }

    /// The database, created and migrated on first use.
    func openDatabase() throws -> AppDatabase {
        try AppDatabase.open(in: dataDirectory)
    }

    var keyStore: KeyStore { KeyStore(directory: dataDirectory) }

    /// `yongjun --data-dir D cards import F` puts the global option before the subcommand, where ArgumentParser
    /// does not look for a subcommand's options; carry it over through the environment variable it falls back to.
    static func hoistingLeadingGlobals(_ arguments: [String]) -> [String] {
        var arguments = arguments
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-") {
            if arguments[index] == "--data-dir", index + 1 < arguments.count {
                setenv("YONGJUN_DATA_DIR", arguments[index + 1], 1)
                arguments.removeSubrange(index...(index + 1))
            } else if arguments[index].hasPrefix("--data-dir=") {
                setenv("YONGJUN_DATA_DIR", String(arguments[index].dropFirst("--data-dir=".count)), 1)
                arguments.remove(at: index)
            } else {
                index += 1
            }
        }
        return arguments
    }
}
