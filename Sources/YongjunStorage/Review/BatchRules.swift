import Foundation
import YongjunCore

/// The batches' rules (one open at a time, the counts, the meeting's approval), applied by both stores to the rows
/// they read: only the SQL differs per store.
package enum BatchRules {
    package static func notFound(_ number: Int64) -> RegisterError {
        RegisterError("no batch \(number); `yongjun batches list` shows the batches")
    }

    /// Only one batch takes applications at a time.
    package static func stillOpen(_ number: Int64) -> RegisterError {
        RegisterError("batch \(number) is still open; close it with `yongjun batches close \(number)` first")
    }

    package static func opened(today: CalendarDate) -> Batch {
        Batch(number: nil, openedOn: today.description, closedOn: nil, meetingDate: nil, status: .open)
    }

    /// `batch` closed today; it must be open.
    package static func closed(_ batch: Batch, today: CalendarDate) throws -> Batch {
        guard batch.status == .open else { throw RegisterError("batch \(batch.number ?? 0) is already closed (on \(batch.closedOn ?? "?"))") }
        var batch = batch
        batch.status = .closed
        batch.closedOn = today.description
        return batch
    }

    /// The summary of `batch` from its applications counted by stage, and its rejections counted by the stage they
    /// happened at (nil counts as materials).
    package static func summary(of batch: Batch, stageCounts: [(String, Int)], rejectedCounts: [(String?, Int)]) -> BatchSummary {
        var stages = Dictionary(uniqueKeysWithValues: ReviewStage.allCases.map { ($0.rawValue, 0) })
        for (stage, count) in stageCounts { stages[stage] = count }
        var rejectedAt = Dictionary(uniqueKeysWithValues: ReviewStage.reviewOrder.map { ($0.rawValue, 0) })
        for (stage, count) in rejectedCounts { rejectedAt[stage ?? "materials"] = count }
        return BatchSummary(
            number: batch.number ?? 0,
            status: batch.status.rawValue,
            openedOn: batch.openedOn,
            closedOn: batch.closedOn,
            meetingDate: batch.meetingDate,
            applied: stages.values.reduce(0, +),
            approved: stages["approved"] ?? 0,
            rejected: stages["rejected"] ?? 0,
            stages: stages,
            rejectedAt: rejectedAt
        )
    }

    // MARK: 开会通过

    package static func approveNote(_ number: Int64, meetingDate: CalendarDate) -> AuditNote {
        AuditNote(action: "batches.approve", subject: "batch \(number)", details: ["meetingDate": meetingDate.description])
    }

    /// A batch is approved at one meeting.
    package static func checkNotApproved(_ batch: Batch) throws {
        if let held = batch.meetingDate { throw RegisterError("batch \(batch.number ?? 0) was already approved at the meeting on \(held)") }
    }

    /// The first of `only` that is not among the batch's applications at discussion, if any.
    package static func firstStray(_ only: [Int64]?, candidates: [Application]) -> Int64? {
        only?.first { id in !candidates.contains { $0.id == id } }
    }

    /// Why application `id` (`found`, if it exists) cannot be approved with batch `number`.
    package static func stray(_ id: Int64, found: Application?, batch number: Int64) -> RegisterError {
        let place = found.map { "is in batch \($0.batchNumber) at \($0.stage.rawValue) (\($0.stage.label))" } ?? "does not exist"
        return RegisterError("application \(id) \(place); only applications of batch \(number) at discussion (讨论方案) can be approved")
    }

    /// The applications the meeting approves: those at discussion (or only `only` of them), never two of one credit code.
    package static func approved(_ candidates: [Application], only: [Int64]?, batch number: Int64) throws -> [Application] {
        let chosen = only.map { only in candidates.filter { only.contains($0.id ?? -1) } } ?? candidates
        guard !chosen.isEmpty else {
            throw RegisterError("batch \(number) has no application at discussion (讨论方案) to approve; advance them first")
        }
        let byCode = Dictionary(grouping: chosen, by: \.creditCode)
        if let (code, clash) = byCode.first(where: { $0.value.count > 1 }) {
            let ids = clash.compactMap(\.id).map(String.init).joined(separator: " and ")
            throw RegisterError(
                "applications \(ids) share credit code \(code); reject the one that is not that shop (`yongjun applications reject ID --reason …`) before approving"
            )
        }
        return chosen
    }

    /// The active partner shop an approved application becomes (it gets its key with `merchants key`).
    package static func merchant(from application: Application, batch number: Int64, now: Date) -> Merchant {
        Merchant(
            id: nil,
            name: application.shopName,
            industry: application.industry,
            address: application.address,
            benefit: application.benefit,
            status: .active,
            apiKeyId: nil,
            apiKeyHash: nil,
            apiKeyIssuedAt: nil,
            createdAt: Timestamp.iso(now),
            creditCode: application.creditCode,
            contact: application.contact,
            phone: application.phone,
            batchNumber: number,
            applicationId: application.id
        )
    }

    package static func approvalEventNote(_ meetingDate: CalendarDate) -> String { "开会通过（\(meetingDate)）" }

    /// The approved applications' ids, and the shops' ids too, so `audit verify` can replay each shop's status from
    /// its first entry.
    package static func recordApproval(_ merchants: [Merchant], in note: inout AuditNote) {
        note.details["approved"] = merchants.compactMap { $0.applicationId.map(String.init) }.joined(separator: ",")
        note.details["merchants"] = merchants.compactMap { $0.id.map(String.init) }.joined(separator: ",")
    }
}

extension BenefitRule {
    /// A new shop's 优惠内容 (from its application, or `merchants add --benefit`) is its first rule, for every holder,
    /// until the bureau sets finer ones with `merchants benefits ID --set FILE`.
    package static func starting(benefit: String?) -> BenefitRule? {
        guard let text = benefit?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return BenefitRule(categories: nil, benefit: text)
    }
}
