/// 行业 — the trade a partner shop is in.
public enum Industry: String, CaseIterable, Sendable, Codable {
    /// 车辆维修
    case vehicleRepair = "vehicle_repair"
    /// 餐饮
    case catering
    /// 日用百货
    case dailyGoods = "daily_goods"
    /// 其他
    case other

    public var label: String {
        switch self {
        case .vehicleRepair: "车辆维修"
        case .catering: "餐饮"
        case .dailyGoods: "日用百货"
        case .other: "其他"
        }
    }

    /// Accepts the English code (`catering`) or the Chinese label (`餐饮`).
    public init?(codeOrLabel text: String) {
        let trimmed = text.trimmingWhitespace()
        guard let match = Industry(rawValue: trimmed.lowercased()) ?? Industry.allCases.first(where: { $0.label == trimmed }) else {
            return nil
        }
        self = match
    }

    public static var acceptedValues: String {
        allCases.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", ")
    }
}
