import Foundation
import YongjunCore

extension BatchSummary {
    /// Applications of one batch at one stage (and, when rejected, the stage they were rejected at), as a store
    /// groups them.
    public struct StageGroup: Sendable, Equatable {
        public var stage: String
        public var rejectedAtStage: String?
        public var count: Int

        public init(stage: String, rejectedAtStage: String?, count: Int) {
            self.stage = stage
            self.rejectedAtStage = rejectedAtStage
            self.count = count
        }
    }

    /// The batch's live counts from its applications' groups, on either store: every stage listed (0 when none),
    /// rejections filed under the stage they happened at (收集资料 when the register does not say).
    public init(batch: Batch, groups: [StageGroup]) {
        var stages = Dictionary(uniqueKeysWithValues: ReviewStage.allCases.map { ($0.rawValue, 0) })
        var rejectedAt = Dictionary(uniqueKeysWithValues: ReviewStage.reviewOrder.map { ($0.rawValue, 0) })
        for group in groups {
            stages[group.stage, default: 0] += group.count
            if group.stage == ReviewStage.rejected.rawValue { rejectedAt[group.rejectedAtStage ?? "materials", default: 0] += group.count }
        }
        self.init(
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
}
