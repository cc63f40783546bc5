import ArgumentParser
import Foundation
import YongjunStorage

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (env YONGJUN_DATA_DIR, default ./data).")
    var dataDir: String?

    @Option(name: .customLong("operator"), help: "Your name for the audit log (env YONGJUN_OPERATOR, default the OS user).")
    var operatorName: String?

    @Option(
        name: .customLong("database"),
        help: """
            PostgreSQL store, postgres://USER:PASSWORD@HOST:5432/DATABASE (env YONGJUN_DATABASE, default the embedded \
            SQLite store). Prefer the variable: a password on the command line is visible to other users in ps.
            """
    )
    var database: String?

    var dataDirectory: DataDirectory {
        DataDirectory(path: dataDir ?? ProcessInfo.processInfo.environment["YONGJUN_DATA_DIR"] ?? "./data")
    }

    /// The PostgreSQL store named by --database or YONGJUN_DATABASE; nil (or empty): the SQLite database in the data
    /// directory. It holds a password: print it through `redactedDatabaseURL(_:)`.
    var databaseURL: String? {
        let value = database ?? ProcessInfo.processInfo.environment["YONGJUN_DATABASE"]
        return value?.isEmpty == false ? value : nil
    }

    /// The SQLite database, created and migrated on first use. Every command runs on either store through
    /// `withAdminStore`; only `backup` and `restore` work on the SQLite file itself (on PostgreSQL they stop first and
    /// name pg_dump). Should a command reach here with a PostgreSQL store named, it stops rather than quietly use the file.
    func openDatabase() throws -> AppDatabase {
        if databaseURL != nil {
            throw CLIFailure(
                message: "This command works on the embedded SQLite store only, and a PostgreSQL store is named (--database or "
                    + "YONGJUN_DATABASE); on PostgreSQL use pg_dump -Fc / pg_restore for backups."
            )
        }
        return try AppDatabase.open(in: dataDirectory)
    }

    var keyStore: KeyStore { KeyStore(directory: dataDirectory) }

    /// Who is acting: --operator, YONGJUN_OPERATOR, or the login name.
    var resolvedOperator: String {
        let environment = ProcessInfo.processInfo.environment
        let name = operatorName ?? environment["YONGJUN_OPERATOR"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
        return name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "unknown" : name
    }

    /// The audit context every admin action runs under.
    func audit() throws -> AuditContext {
        AuditContext(operatorName: resolvedOperator, chain: try keyStore.auditChain(), directory: dataDirectory)
    }

    /// `yongjun --data-dir D cards import F` puts the global option before the subcommand, where ArgumentParser
    /// does not look for a subcommand's options; carry it over through the environment variable it falls back to.
    static func hoistingLeadingGlobals(_ arguments: [String]) -> [String] {
        var arguments = arguments
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let hoisted = ["--data-dir": "YONGJUN_DATA_DIR", "--operator": "YONGJUN_OPERATOR", "--database": "YONGJUN_DATABASE"]
            if let variable = hoisted[arguments[index]], index + 1 < arguments.count {
                setenv(variable, arguments[index + 1], 1)
                arguments.removeSubrange(index...(index + 1))
            } else if let (flag, variable) = hoisted.first(where: { arguments[index].hasPrefix($0.key + "=") }) {
                setenv(variable, String(arguments[index].dropFirst(flag.count + 1)), 1)
                arguments.remove(at: index)
            } else {
                index += 1
            }
        }
        return arguments
    }
}
