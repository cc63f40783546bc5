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
        let entries = try auditEntries(db)
        let replay = AuditReplay(entries: entries)
        let (state, checked) = try stateProblems(db, replay)
        return AuditVerification(
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
    static func stateProblems(_ db: Database, _ replay: AuditReplay) throws -> ([StateProblem], (Int, Int, Int)) {
        var problems: [StateProblem] = []
        func expected(_ fact: AuditReplay.Fact?, otherwise: String) -> String {
            fact.map { "'\($0.value)' (entry \($0.seq))" } ?? otherwise
        }
        let merchants = try Row.fetchAll(db, sql: "SELECT id, status, application_id FROM merchants ORDER BY id")
        for row in merchants {
            let id: Int64 = row[0]
            let status: String = row[1]
            let applicationID: Int64? = row[2]
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
        let merchantIDs = Set(merchants.map { $0[0] as Int64 })
        for (id, fact) in replay.merchantStatus.sorted(by: { $0.key < $1.key }) where !merchantIDs.contains(id) {
            problems.append(StateProblem(table: "merchants", row: "id \(id)", field: "id", found: "missing", expected: "a shop (entry \(fact.seq))"))
        }

        let cards = try Row.fetchAll(db, sql: "SELECT card_no, status FROM cards ORDER BY card_no")
        for row in cards {
            let cardNo: String = row[0]
            let status: String = row[1]
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

        let applications = try Row.fetchAll(db, sql: "SELECT id, stage FROM applications ORDER BY id")
        for row in applications {
            let id: Int64 = row[0]
            let stage: String = row[1]
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
        let applicationIDs = Set(applications.map { $0[0] as Int64 })
        for (id, fact) in replay.applicationStage.sorted(by: { $0.key < $1.key }) where !applicationIDs.contains(id) {
            problems.append(
                StateProblem(table: "applications", row: "id \(id)", field: "id", found: "missing", expected: "an application (entry \(fact.seq))")
            )
        }
        return (problems, (merchants.count, cards.count, applications.count))
    }

    /// Seals the head at the log's current end after an operator checked why it did not match (a crash between
    /// commit and seal, an old-format head). The reseal is itself an entry, naming what the head said before.
    public func resealAudit(_ audit: AuditContext, now: Date) throws -> (before: AuditSeal, head: AuditHead) {
        let before = audit.seal
        var head = AuditHead(count: 0, lastHash: "")
        try dbWriter.write { db in
            if let broken = audit.chain.firstProblem(in: try Self.auditEntries(db)) {
                throw RegisterError(
                    "the chain itself is broken at entry \(broken.seq) (\(broken.reason)); resealing would hide that, so nothing was changed"
                )
            }
            head = try appendAudit(db, audit, AuditNote(action: "audit.reseal", details: ["headBefore": before.summary]), now: now)
        }
        _ = audit.takeSealFailure()
        try audit.replaceHead(with: head)
        return (before, head)
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
