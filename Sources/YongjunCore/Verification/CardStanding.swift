import YongjunVerifier

/// Where a card stands in the bureau's register, as the verification path needs it.
public struct CardStanding: Sendable {
    public let cardID: String
    public let category: CardCategory
    public let validUntil: CalendarDate
    public let revoked: Bool

    public init(cardID: String, category: CardCategory, validUntil: CalendarDate, revoked: Bool) {
        self.cardID = cardID
        self.category = category
        self.validUntil = validUntil
        self.revoked = revoked
    }

    /// The card's own reason to refuse, judged on the China calendar day `today`.
    public func rejection(today: CalendarDate) -> VerificationReason? {
        if revoked { return .cardRevoked }
        if validUntil < today { return .cardExpired }
        return nil
    }
}
