import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun audit`: the hash-chained log of admin actions.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show and verify the tamper-evident log of admin actions.",
        subcommands: [AuditList.self, AuditVerify.self]
    )
}

struct AuditList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List admin actions, oldest first.",
        discussion: "Example: yongjun audit list --limit 20"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only the last N entries.") var limit: Int?

    func run() async throws {
        let entries = try global.openDatabase().auditEntries(limit: limit)
        try output.emit(
            entries,
            header: ["SEQ", "AT (UTC)", "OPERATOR", "ACTION", "SUBJECT", "DETAILS"],
            rows: entries.map { [String($0.seq), $0.at, $0.operatorName, $0.action, $0.subject, $0.details] }
        )
    }
}

struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit chain; exits 1 naming the first edited, deleted or reordered entry.",
        discussion: "Example: yongjun audit verify"
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let database = try global.openDatabase()
        if let problem = try database.verifyAudit(try global.audit()) {
            throw CLIFailure(message: "audit log broken at entry \(problem.seq): \(problem.reason)")
        }
        print("audit log intact: \(try database.auditEntries().count) entries")
    }
}
