import Foundation

/// What a holder keeps of a valid verification: signed by the bureau's key (`typ: yongjun-receipt+jwt`), naming
/// the shop, the time, the record and the benefit, and the holder only by that shop's pseudonym.
public struct ReceiptClaims: Codable, Sendable, Equatable {
    public struct Shop: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String

        public init(id: Int64, name: String) {
            self.id = id
            self.name = name
        }
    }

    public var iss: String
    /// The verification's id (a record the bureau can look up).
    public var vid: String
    /// When the verification was made (Unix seconds) and its exact record time.
    public var iat: Int
    public var at: String
    public var shop: Shop
    public var benefit: String?
    /// The holder as this shop knows them.
    public var holder: String

    public init(iss: String, vid: String, iat: Int, at: String, shop: Shop, benefit: String?, holder: String) {
        self.iss = iss
        self.vid = vid
        self.iat = iat
        self.at = at
        self.shop = shop
        self.benefit = benefit
        self.holder = holder
    }

    public static let type = "yongjun-receipt+jwt"

    /// The claims of a receipt whose signature holds under `keys`.
    public static func open(_ token: String, keys: TrustedKeys) -> Result<ReceiptClaims, CodeRejection> {
        CompactJWS.verify(token, keys: keys, types: [type], maximumLength: 8192).flatMap { verified in
            guard let claims = try? JSONDecoder().decode(ReceiptClaims.self, from: Data(verified.payload)) else { return .failure(.malformed) }
            return .success(claims)
        }
    }
}
