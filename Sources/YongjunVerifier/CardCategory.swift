/// 优抚对象类别 — who a 优待证 (preferential-treatment card) was issued to.
///
/// The raw value is the stable English code used in the API and the CSV; `label` is what people read.
public enum CardCategory: String, CaseIterable, Sendable, Codable {
    /// 现役军人
    case activeDuty = "active_duty"
    /// 退役军人
    case veteran
    /// 残疾军人 (with a disability grade, 一级…十级, kept on the card)
    case disabledServiceman = "disabled_serviceman"
    /// 军属
    case militaryFamily = "military_family"
    /// 烈属
    case martyrFamily = "martyr_family"
    /// 因公牺牲军人遗属
    case dutyDeathFamily = "duty_death_family"
    /// 病故军人遗属
    case illnessDeathFamily = "illness_death_family"
    /// 其他优抚对象
    case otherEntitled = "other_entitled"

    /// The Simplified-Chinese name printed on the card.
    public var label: String {
        switch self {
        case .activeDuty: "现役军人"
        case .veteran: "退役军人"
        case .disabledServiceman: "残疾军人"
        case .militaryFamily: "军属"
        case .martyrFamily: "烈属"
        case .dutyDeathFamily: "因公牺牲军人遗属"
        case .illnessDeathFamily: "病故军人遗属"
        case .otherEntitled: "其他优抚对象"
        }
    }

    /// "code (label)" pairs, for error messages that tell the user what is accepted.
    public static var acceptedValues: String {
        allCases.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", ")
    }
}
