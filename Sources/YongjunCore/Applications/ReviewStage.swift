/// Where a shop's application stands: 收集资料 → 资格审核 → 实地考核 → 讨论方案 → 开会通过, or 未通过.
public enum ReviewStage: String, CaseIterable, Sendable, Codable {
    /// 收集资料 — materials collected
    case materials
    /// 资格审核 — qualification review
    case qualification
    /// 实地考核 — on-site inspection
    case inspection
    /// 讨论方案 — plan discussion
    case discussion
    /// 开会通过 — approved at the meeting
    case approved
    /// 未通过 — rejected at some stage (the stage is kept with the application)
    case rejected

    public var label: String {
        switch self {
        case .materials: "收集资料"
        case .qualification: "资格审核"
        case .inspection: "实地考核"
        case .discussion: "讨论方案"
        case .approved: "开会通过"
        case .rejected: "未通过"
        }
    }

    /// The four stages an application is reviewed in, in order.
    public static let reviewOrder: [ReviewStage] = [.materials, .qualification, .inspection, .discussion]

    /// The next stage `advance` moves to; nil at `discussion` (the meeting approves) and for outcomes.
    public var next: ReviewStage? {
        switch self {
        case .materials: .qualification
        case .qualification: .inspection
        case .inspection: .discussion
        case .discussion, .approved, .rejected: nil
        }
    }

    public var isUnderReview: Bool { Self.reviewOrder.contains(self) }

    public init?(codeOrLabel text: String) {
        let trimmed = text.trimmingWhitespace()
        guard let stage = ReviewStage(rawValue: trimmed.lowercased()) ?? Self.allCases.first(where: { $0.label == trimmed }) else {
            return nil
        }
        self = stage
    }

    public static var acceptedValues: String {
        allCases.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", ")
    }
}
