import Foundation

/// One verification attempt as it is kept: who asked, about which card and code, and what was answered.
public struct VerificationEntry: Sendable {
    public var id: String
    public var merchantID: Int64
    public var cardID: String?
    public var codeID: String?
    public var keyID: String?
    public var valid: Bool
    public var reason: String?
    public var nonce: String?
    /// Unix seconds at which the code stops being accepted; keeps the "already used here" memory across restarts.
    public var codeExpiresAt: Int?
    public var createdAt: String
    /// The exact JSON body the shop received, replayed for a retry with the same nonce.
    public var response: String
    /// What a valid verification used up at this shop (unique per shop); nil for an invalid one.
    public var useKey: String?
    /// For a valid verification: whether the shop's rules cover this holder now, what they give, and which rule.
    public var eligible: Bool?
    public var benefit: String?
    public var benefitRule: Int?

    public init(
        id: String,
        merchantID: Int64,
        cardID: String?,
        codeID: String?,
        keyID: String?,
        valid: Bool,
        reason: String?,
        nonce: String?,
        codeExpiresAt: Int?,
        createdAt: String,
        response: String,
        useKey: String? = nil,
        eligible: Bool? = nil,
        benefit: String? = nil,
        benefitRule: Int? = nil
    ) {
        self.id = id
        self.merchantID = merchantID
        self.cardID = cardID
        self.codeID = codeID
        self.keyID = keyID
        self.valid = valid
        self.reason = reason
        self.nonce = nonce
        self.codeExpiresAt = codeExpiresAt
        self.createdAt = createdAt
        self.response = response
        self.useKey = useKey
        self.eligible = eligible
        self.benefit = benefit
        self.benefitRule = benefitRule
    }
}
