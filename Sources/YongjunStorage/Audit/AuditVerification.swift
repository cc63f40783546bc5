import YongjunCore

/// Everything `audit verify` found: the chain and its sealed head, the register's state against the replayed
/// log, and signing keys on disk without their audit entry.
public struct AuditVerification: Sendable {
    public let entries: Int
    public let seal: AuditSeal
    /// The first break in the chain or at its end, if any.
    public let chain: AuditProblem?
    public let state: [StateProblem]
    /// Key files under keys/signing that no `keys init` or `keys rotate` entry created.
    public let unauditedKeys: [String]
    /// Key ids the log says were created (a backup's must all be in the key ring before it is restored).
    public let auditedKeys: Set<String>
    /// Rows compared: merchants, cards, applications.
    public let checkedRows: (merchants: Int, cards: Int, applications: Int)

    public var isIntact: Bool { chain == nil && state.isEmpty && unauditedKeys.isEmpty }

    /// One line per problem, as `audit verify` and `restore --check-only` print them.
    public var problemLines: [String] {
        (chain.map { [Self.line(for: $0)] } ?? [])
            + state.map { "state differs from the audit log: \($0)" }
            + unauditedKeys.map {
                "signing key \($0) (keys/signing/\($0).json) has no keys.init or keys.rotate entry: it was written outside an audited "
                    + "`yongjun keys` command; if nobody on your team made it, move it out of keys/signing and find out who did"
            }
    }

    /// How `audit verify` and `restore` word a break in the chain or at its end.
    static func line(for problem: AuditProblem) -> String {
        switch problem.kind {
        case .entry: "audit log broken at entry \(problem.seq): \(problem.reason)"
        case .cutEnd: "audit log cut: \(problem.reason)"
        case .head: "audit head not trustworthy: \(problem.reason)"
        case .unsealedTail: "audit head behind the log: \(problem.reason)"
        }
    }
}

/// A row whose field differs from what the audit log says it must be: changed outside Yongjun.
public struct StateProblem: Sendable, Equatable, CustomStringConvertible {
    public let table: String
    /// `id 3`, `card_no LZ0001`, or empty for the table as a whole.
    public let row: String
    public let field: String
    public let found: String
    public let expected: String

    public var description: String {
        "\(table)\(row.isEmpty ? "" : " " + row) field \(field) is \(found), but the audit log gives \(expected)"
    }
}
