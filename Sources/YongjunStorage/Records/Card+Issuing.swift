import Foundation
import YongjunCore

extension Card {
    /// The one rule for "may this card get a code", on either store: cards in the order given, each looked up with
    /// `lookup`; the first unknown, revoked or expired card refuses the lot with its reason.
    package static func forIssuing(numbers: [String], today: CalendarDate, lookup: (String) throws -> Card?) throws -> [Card] {
        try numbers.map { cardNo in
            guard let card = try lookup(cardNo) else { throw RegisterError.cardNotFound(cardNo) }
            // The same rule the verification path applies (CardStanding), so no code is issued that would be refused.
            switch card.standing?.rejection(today: today) {
            case .cardRevoked:
                throw RegisterError("card \(cardNo) is revoked (\(card.revokeReason ?? "no reason given")); no code can be issued")
            case .cardExpired:
                throw RegisterError("card \(cardNo) expired on \(card.validUntil); update valid_until by importing the renewed card")
            default: return card
            }
        }
    }
}
