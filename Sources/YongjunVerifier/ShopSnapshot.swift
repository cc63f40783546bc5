import Foundation

/// What a shop device holds to verify without a network, signed by the bureau's current key (`typ:
/// yongjun-snapshot+jwt`): the key set, the status list, the shop itself, the sync time and how long it lasts.
public struct ShopSnapshot: Codable, Sendable, Equatable {
    public struct Shop: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var industry: String
        /// `active`, `suspended` or `revoked`.
        public var status: String
        public var benefit: String?
        /// The shop's benefit rules, so a device gives the right benefit offline too (absent in older snapshots).
        public var rules: [BenefitRule]?

        public init(id: Int64, name: String, industry: String, status: String, benefit: String?, rules: [BenefitRule]? = nil) {
            self.id = id
            self.name = name
            self.industry = industry
            self.status = status
            self.benefit = benefit
            self.rules = rules
        }
    }

    public var iss: String
    /// Server time of the sync (Unix seconds).
    public var iat: Int
    /// `iat + maxOfflineAge`.
    public var exp: Int
    public var maxOfflineAge: Int
    public var clockLeeway: Int
    public var jwks: JWKS
    /// The status list token as the server served it.
    public var statusList: String
    public var shop: Shop

    public init(iss: String, iat: Int, maxOfflineAge: Int, clockLeeway: Int, jwks: JWKS, statusList: String, shop: Shop) {
        self.iss = iss
        self.iat = iat
        self.exp = iat + maxOfflineAge
        self.maxOfflineAge = maxOfflineAge
        self.clockLeeway = clockLeeway
        self.jwks = jwks
        self.statusList = statusList
        self.shop = shop
    }

    public static let type = "yongjun-snapshot+jwt"

    /// Why a stored snapshot cannot be used at all.
    public enum Problem: String, Error, Sendable {
        /// Not a snapshot, or its signature, key set or status list does not check out (edited on the device?).
        case tampered
        /// The device clock is earlier than the sync, or the snapshot is past `exp`.
        case syncRequired = "sync_required"
        /// This device never synced (or its snapshot was removed when the shop was refused).
        case missing
        /// The shop was not active when it synced.
        case shopNotActive = "shop_not_active"

        public var message: String {
            switch self {
            case .tampered: "离线数据无法验证（可能被改动），请联网同步"
            case .syncRequired: VerificationReason.syncRequired.message
            case .missing: "本设备还没有离线数据，请联网运行 yongjun shop sync"
            case .shopNotActive: "非合作商户：该商户已暂停或取消合作，不能离线核验"
            }
        }
    }

    /// Opens a snapshot token: signed by a key of its own key set, with a status list signed by a key of that set,
    /// issued by `issuer`. Whether it is still fresh is `OfflineVerifier.freshness`.
    public static func open(_ token: String, issuer: String = "yongjun") -> Result<OfflineVerifier, Problem> {
        guard token.utf8.count <= StatusListClaims.maximumTokenLength + 65_536,
            let payload = CompactJWS.unverifiedPayload(token),
            let claimed = try? JSONDecoder().decode(ShopSnapshot.self, from: Data(payload)),
            let keys = TrustedKeys(jwks: claimed.jwks), !keys.isEmpty,
            case .success(let verified) = CompactJWS.verify(token, keys: keys, types: [type], maximumLength: .max),
            verified.payload == payload,
            claimed.iss == issuer, claimed.maxOfflineAge > 0, claimed.exp == claimed.iat.saturatingAdd(claimed.maxOfflineAge),
            (0...3600).contains(claimed.clockLeeway),
            case .success(let (listClaims, list)) = StatusListClaims.open(claimed.statusList, keys: keys, issuer: issuer)
        else { return .failure(.tampered) }
        guard claimed.shop.status == "active" else { return .failure(.shopNotActive) }
        return .success(OfflineVerifier(snapshot: claimed, keys: keys, statusListURI: listClaims.sub, statusListExpires: listClaims.exp, list: list))
    }
}
