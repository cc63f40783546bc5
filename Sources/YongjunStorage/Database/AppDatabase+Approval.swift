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
        try write(audit: audit, now: now, BatchRules.approveNote(number, meetingDate: meetingDate)) { db, auditNote in
            var batch = try Self.batch(number, db)
            try BatchRules.checkNotApproved(batch)
            let atDiscussion = try Application.filter(Column("batch_number") == number && Column("stage") == "discussion").order(Column("id"))
                .fetchAll(db)
            if let stray = BatchRules.firstStray(only, candidates: atDiscussion) {
                throw BatchRules.stray(stray, found: try Application.fetchOne(db, key: stray), batch: number)
            }
            let operatorName = audit?.operatorName ?? "system"
            var merchants: [Merchant] = []
            for var application in try BatchRules.approved(atDiscussion, only: only, batch: number) {
                var merchant = BatchRules.merchant(from: application, batch: number, now: now)
                try merchant.insert(db)
                try BenefitRule.startingRules(db, merchant)
                application.merchantId = merchant.id
                let note = BatchRules.approvalEventNote(meetingDate)
                _ = try Self.save(ApplicationRules.moved(application, to: .approved, note: note, operatorName: operatorName, now: now), db)
                merchants.append(merchant)
            }
            batch.meetingDate = meetingDate.description
            try batch.update(db)
            BatchRules.recordApproval(merchants, in: &auditNote)
            return (merchants, try Self.summary(of: batch, db))
        }
    }
}
