/// Why a shop's verification came back invalid. Raw values are the API's `reason` field.
public enum VerificationReason: String, Sendable, CaseIterable, Codable {
    case malformed
    case badSignature = "bad_signature"
    case unknownKey = "unknown_key"
    case expired
    case notYetValid = "not_yet_valid"
    case cardRevoked = "card_revoked"
    case cardExpired = "card_expired"
    /// The code is genuine but names a card the bureau's register does not hold.
    case unknownCard = "unknown_card"
    case alreadyUsedHere = "already_used_here"
    case unknownShortCode = "unknown_short_code"
    /// The card is genuine (`valid` stays true) but this shop's rules do not cover its category today, or the
    /// holder already had the once-a-day benefit here. Only ever with `eligible: false`; never a record's reason.
    case notEligibleHere = "not_eligible_here"
    /// Offline kit only: the snapshot is too old, or the device clock is earlier than the last sync.
    case syncRequired = "sync_required"
    /// Offline kit only: a 9-digit number, or a code without a status-list entry, needs the server.
    case offlineUnsupported = "offline_unsupported"

    public init(_ rejection: CodeRejection) {
        switch rejection {
        case .malformed: self = .malformed
        case .badSignature: self = .badSignature
        case .unknownKey: self = .unknownKey
        case .expired: self = .expired
        case .notYetValid: self = .notYetValid
        case .unknownShortCode: self = .unknownShortCode
        }
    }

    /// What the cashier reads, in plain Chinese, with what to do next.
    public var message: String {
        switch self {
        case .malformed: "无法识别的码，请让持证人重新出示"
        case .badSignature: "验证失败：码不是拥军平台签发的"
        case .unknownKey: "验证失败：签发密钥未知，请让持证人刷新后重新出示"
        case .expired: "码已过期，请让持证人刷新后重新出示"
        case .notYetValid: "码尚未生效，请核对设备时间后重试"
        case .cardRevoked: "证件已注销，不能享受优待"
        case .cardExpired: "证件已过有效期，不能享受优待"
        case .unknownCard: "未找到该证件，请联系退役军人事务局"
        case .alreadyUsedHere: "此码已在本店使用过，请让持证人刷新后重新出示"
        case .unknownShortCode: "数字码无效、已使用或已过期，请让持证人刷新后重新出示"
        case .notEligibleHere: "证件有效，但本店优惠不适用于该类别或今日已享受过，请按普通顾客结算"
        case .syncRequired: "离线数据已过期或设备时间不对，请校准时间后联网同步"
        case .offlineUnsupported: "离线时无法核验此码，请让持证人出示二维码或联网后核验"
        }
    }
}
