import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// 开会通过: turns the batch's applications at discussion (or only `only`) into active partner shops,
    /// in one transaction, and records the meeting date on the batch.
    public func approveBatch(
        _ number: Int64,
        meetingDate: CalendarDate,
        only: [Int64]? = nil,
        now: Date,
        audit: AuditContext? = nil
    ) throws -> (merchants: [Merchant], summary: BatchSummary) {
        let note = AuditNote(action: "batches.approve", subject: "batch \(number)", details: ["meetingDate": meetingDate.description])
        return try write(audit: audit, now: now, note) { db, auditNote in
            var batch = try Self.batch(number, db)
            if let held = batch.meetingDate {
                throw RegisterError("batch \(number) was already approved at the meeting on \(held)")
            }
            var candidates = try Application.filter(Column("batch_number") == number && Column("stage") == "discussion").order(Column("id")).fetchAll(
                db
            )
            if let only {
                for id in only where !candidates.contains(where: { $0.id == id }) {
                    let application = try Application.fetchOne(db, key: id)
                    let place = application.map { "is in batch \($0.batchNumber) at \($0.stage.rawValue) (\($0.stage.label))" } ?? "does not exist"
                    throw RegisterError("application \(id) \(place); only applications of batch \(number) at discussion (讨论方案) can be approved")
                }
                candidates = candidates.filter { only.contains($0.id ?? -1) }
            }
            guard !candidates.isEmpty else {
                throw RegisterError("batch \(number) has no application at discussion (讨论方案) to approve; advance them first")
            }
            let byCode = Dictionary(grouping: candidates, by: \.creditCode)
            if let (code, clash) = byCode.first(where: { $0.value.count > 1 }) {
                let ids = clash.compactMap(\.id).map(String.init).joined(separator: " and ")
                throw RegisterError(
                    "applications \(ids) share credit code \(code); reject the one that is not that shop (`yongjun applications reject ID --reason …`) before approving"
                )
            }
            let stamp = Timestamp.iso(now)
            let operatorName = audit?.operatorName ?? "system"
            var merchants: [Merchant] = []
            for var application in candidates {
                var merchant = Merchant(
                    id: nil,
                    name: application.shopName,
                    industry: application.industry,
                    address: application.address,
                    benefit: application.benefit,
                    status: .active,
                    apiKeyId: nil,
                    apiKeyHash: nil,
                    apiKeyIssuedAt: nil,
                    createdAt: stamp,
                    creditCode: application.creditCode,
                    contact: application.contact,
                    phone: application.phone,
                    batchNumber: number,
                    applicationId: application.id
                )
                try merchant.insert(db)
                try BenefitRule.startingRules(db, merchant)
                application.merchantId = merchant.id
                try Self.move(&application, to: .approved, note: "开会通过（\(meetingDate)）", operatorName: operatorName, now: now, db)
                merchants.append(merchant)
            }
            batch.meetingDate = meetingDate.description
            try batch.update(db)
            auditNote.details["approved"] = merchants.compactMap { $0.applicationId.map(String.init) }.joined(separator: ",")
            // The shops' ids too, so `audit verify` can replay each shop's status from its first entry.
            auditNote.details["merchants"] = merchants.compactMap { $0.id.map(String.init) }.joined(separator: ",")
            return (merchants, try Self.summary(of: batch, db))
        }
    }
}
