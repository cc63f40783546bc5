import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun audit`: the hash-chained log of admin actions.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show and verify the tamper-evident log of admin actions.",
        subcommands: [AuditList.self, AuditVerify.self, AuditReseal.self]
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
        let entries = try await global.withAdminStore { store in try await store.auditEntries(limit: limit) }
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
        abstract: "Check the audit chain, its sealed head, the register's state and the signing keys; exits 1 naming each problem.",
        discussion: """
            Checks that no entry was edited, deleted, reordered or cut off the end (audit.head is sealed with the
            audit key), that every shop's status, card's status and application's stage is what replaying the log
            gives (a direct database edit is named by table, row and field), and that every signing key file has
            its keys.init or keys.rotate entry.

            Example: yongjun audit verify
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (audit, keyIDs) = (try global.audit(), try global.keyStore.signingKeyIDs())
        let verification = try await global.withAdminStore { store in try await store.verifyAudit(audit, keyIDs: keyIDs) }
        guard verification.isIntact else {
            let lines = verification.problemLines
            throw CLIFailure(message: lines.count == 1 ? lines[0] : "\(lines.count) problems; see above", details: lines.count == 1 ? [] : lines)
        }
        let rows = verification.checkedRows
        print("audit log intact: \(verification.entries) entries")
        print("head: \(verification.seal.summary)")
        print("state matches the log: \(rows.merchants) merchants, \(rows.cards) cards, \(rows.applications) applications")
        print("signing keys: \(verification.auditedKeys.count) created by audited commands")
    }
}

struct AuditReseal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reseal",
        abstract: "Seal audit.head at the log's current end, after checking why it did not match.",
        discussion: """
            For the cases `audit verify` names: the machine stopped between a commit and its seal, audit.head is
            missing, or it is in the old unsealed format. Check the last entries first (`yongjun audit list --limit 20`).
            Refuses when the chain itself is broken. The reseal is recorded as an entry naming what the head said.

            Example: yongjun audit reseal
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let audit = try global.audit()
        let (before, head) = try await global.withAdminStore { store in try await store.resealAudit(audit, now: Date()) }
        print("audit.head sealed at entry \(head.count) (it was: \(before.summary))")
    }
}
