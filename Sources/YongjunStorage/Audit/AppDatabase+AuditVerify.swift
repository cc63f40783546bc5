import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Checks the chain, its sealed head, the register's state and the signing keys (`keyIDs`, from the key folder).
    public func verifyAudit(_ audit: AuditContext, keyIDs: [String]) throws -> AuditVerification {
        // The head is read first: commits only add entries, so one that lands meanwhile cannot look like a cut.
        let seal = audit.seal
        return try dbWriter.read { db in try Self.verifyAudit(db, chain: audit.chain, seal: seal, keyIDs: keyIDs) }
    }

    static func verifyAudit(_ db: Database, chain: AuditChain, seal: AuditSeal, keyIDs: [String]) throws -> AuditVerification {
        AuditVerification(entries: try auditEntries(db), rows: try auditStateRows(db), chain: chain, seal: seal, keyIDs: keyIDs)
    }

    /// The rows the state check compares with the log, from SQLite.
    static func auditStateRows(_ db: Database) throws -> AuditStateRows {
        AuditStateRows(
            merchants: try Row.fetchAll(db, sql: "SELECT id, status, application_id FROM merchants ORDER BY id").map { ($0[0], $0[1], $0[2]) },
            cards: try Row.fetchAll(db, sql: "SELECT card_no, status FROM cards ORDER BY card_no").map { ($0[0], $0[1]) },
            applications: try Row.fetchAll(db, sql: "SELECT id, stage FROM applications ORDER BY id").map { ($0[0], $0[1]) }
        )
    }
}

/// The rows `audit verify` compares with the replayed log, in key order, from whichever store holds them.
public struct AuditStateRows: Sendable {
    public var merchants: [(id: Int64, status: String, applicationID: Int64?)]
    public var cards: [(cardNo: String, status: String)]
    public var applications: [(id: Int64, stage: String)]

    public init(
        merchants: [(id: Int64, status: String, applicationID: Int64?)],
        cards: [(cardNo: String, status: String)],
        applications: [(id: Int64, stage: String)]
    ) {
        self.merchants = merchants
        self.cards = cards
        self.applications = applications
    }
}

extension AuditVerification {
    /// Checks entries (in `seq` order) and the register's rows, read from any store: the chain and its sealed head,
    /// the state against the replayed log, and that every signing key file in `keyIDs` has its entry.
    public init(entries: [AuditEntry], rows: AuditStateRows, chain: AuditChain, seal: AuditSeal, keyIDs: [String]) {
        let replay = AuditReplay(entries: entries)
        let (state, checked) = Self.stateProblems(rows, replay)
        self.init(
            entries: entries.count,
            seal: seal,
            chain: chain.firstProblem(in: entries, seal: seal),
            state: state,
            unauditedKeys: keyIDs.filter { !replay.signingKeys.contains($0) }.sorted(),
            auditedKeys: replay.signingKeys,
            checkedRows: checked
        )
    }

    /// Compares every shop's status, card's status and application's stage with the replayed log.
    static func stateProblems(_ rows: AuditStateRows, _ replay: AuditReplay) -> ([StateProblem], (Int, Int, Int)) {
        var problems: [StateProblem] = []
        func expected(_ fact: AuditReplay.Fact?, otherwise: String) -> String {
            fact.map { "'\($0.value)' (entry \($0.seq))" } ?? otherwise
        }
        let merchants = rows.merchants
        for (id, status, applicationID) in merchants {
            if let fact = replay.merchantStatus[id] {
                if fact.value != status {
                    problems.append(
                        StateProblem(
                            table: "merchants",
                            row: "id \(id)",
                            field: "status",
                            found: "'\(status)'",
                            expected: expected(fact, otherwise: "")
                        )
                    )
                }
            } else if let applicationID, replay.approvedApplications.contains(applicationID) {
                if status != "active" {
                    problems.append(
                        StateProblem(
                            table: "merchants",
                            row: "id \(id)",
                            field: "status",
                            found: "'\(status)'",
                            expected: "'active' (approved from application \(applicationID), never changed since)"
                        )
                    )
                }
            } else {
                problems.append(
                    StateProblem(table: "merchants", row: "id \(id)", field: "id", found: "present", expected: "no entry that created it")
                )
            }
        }
        let merchantIDs = Set(merchants.map(\.id))
        for (id, fact) in replay.merchantStatus.sorted(by: { $0.key < $1.key }) where !merchantIDs.contains(id) {
            problems.append(StateProblem(table: "merchants", row: "id \(id)", field: "id", found: "missing", expected: "a shop (entry \(fact.seq))"))
        }

        let cards = rows.cards
        for (cardNo, status) in cards {
            let revokedBy = replay.revokedCards[cardNo]
            let should = revokedBy == nil ? "active" : "revoked"
            if status != should {
                problems.append(
                    StateProblem(
                        table: "cards",
                        row: "card_no \(cardNo)",
                        field: "status",
                        found: "'\(status)'",
                        expected: revokedBy.map { "'revoked' (entry \($0))" } ?? "'active' (no entry revoked it)"
                    )
                )
            }
        }
        if cards.count != replay.cardsInserted {
            problems.append(
                StateProblem(
                    table: "cards",
                    row: "",
                    field: "rows",
                    found: "\(cards.count)",
                    expected: "\(replay.cardsInserted) (cards added by audited imports)"
                )
            )
        }

        let applications = rows.applications
        for (id, stage) in applications {
            let fact = replay.applicationStage[id]
            if stage != (fact?.value ?? "materials") {
                problems.append(
                    StateProblem(
                        table: "applications",
                        row: "id \(id)",
                        field: "stage",
                        found: "'\(stage)'",
                        expected: expected(fact, otherwise: "'materials' (no entry moved it)")
                    )
                )
            }
        }
        let applicationIDs = Set(applications.map(\.id))
        for (id, fact) in replay.applicationStage.sorted(by: { $0.key < $1.key }) where !applicationIDs.contains(id) {
            problems.append(
                StateProblem(table: "applications", row: "id \(id)", field: "id", found: "missing", expected: "an application (entry \(fact.seq))")
            )
        }
        return (problems, (merchants.count, cards.count, applications.count))
    }

}

extension AppDatabase {
    /// Seals the head at the log's current end after an operator checked why it did not match (a crash between
    /// commit and seal, an old-format head). The reseal is itself an entry, naming what the head said before.
    public func resealAudit(_ audit: AuditContext, now: Date) throws -> (before: AuditSeal, head: AuditHead) {
        let before = audit.seal
        let head = try dbWriter.write { db in
            try appendAudit(db, audit, try audit.resealNote(before: before, checking: try Self.auditEntries(db)), now: now)
        }
        try audit.finishReseal(at: head)
        return (before, head)
    }
}

extension AuditContext {
    /// The reseal's own entry, naming what the head said; refuses when the chain it would seal is broken. The one
    /// rule for `audit reseal`, whichever store holds `entries` (read in the transaction that appends the entry).
    package func resealNote(before: AuditSeal, checking entries: [AuditEntry]) throws -> AuditNote {
        if let broken = chain.firstProblem(in: entries) {
            throw RegisterError(
                "the chain itself is broken at entry \(broken.seq) (\(broken.reason)); resealing would hide that, so nothing was changed"
            )
        }
        return AuditNote(action: "audit.reseal", details: ["headBefore": before.summary])
    }

    /// Replaces the head with the reseal's committed entry, whatever the head said (the usual seal leaves a head it
    /// does not trust as it is).
    package func finishReseal(at head: AuditHead) throws {
        _ = takeSealFailure()
        try replaceHead(with: head)
    }
}

extension AuditSeal {
    /// A few words for the reseal entry and the command's output.
    public var summary: String {
        switch self {
        case .missing: "missing"
        case .unsealed(let count): "old unsealed format, count \(count)"
        case .forged: "forged or damaged"
        case .sealed(let head): "sealed at entry \(head.count)"
        }
    }
}
