import Foundation
import YongjunCore

/// The audit list and reseal, signing keys' audit entries, shops' benefit rules, receipts, and card codes and
/// printouts (`yongjun audit list|reseal`, `keys …`, `merchants benefits`, `receipts …`, `cards code|print`), on
/// either store. Part of `AdminStore`.
public protocol RecordsStore: Sendable {
    // MARK: The audit log

    /// Audit entries in order, optionally only the last `limit` (`yongjun audit list`).
    func auditEntries(limit: Int?) async throws -> [AuditEntry]
    /// Appends a standalone audit entry, for an action that changes no row (printing credentials).
    func recordAudit(_ audit: AuditContext, _ note: AuditNote, now: Date) async throws
    /// Seals the head at the log's current end, recording what it said before; refuses when the chain is broken.
    func resealAudit(_ audit: AuditContext, now: Date) async throws -> (before: AuditSeal, head: AuditHead)

    // MARK: Signing keys

    /// Creates a signing key file in `keys` together with its `keys.init` / `keys.rotate` entry in this store.
    func addSigningKey(to keys: KeyStore, first: Bool, now: Date, audit: AuditContext) async throws -> SigningKey

    // MARK: Benefit rules

    /// A shop's rules, in the order they are tried; throws `RegisterError` for an unknown shop.
    func benefitRules(merchantID: Int64) async throws -> [BenefitRule]
    /// Replaces a shop's rules, all or nothing (audited).
    func setBenefitRules(merchantID: Int64, rules: [BenefitRule], now: Date, audit: AuditContext?) async throws

    // MARK: Receipts and codes

    /// The verification a receipt names, if it is on record.
    func recordedVerification(id: String) async throws -> RecordedVerification?
    /// The status list URL the server last announced, for codes the CLI signs.
    func statusListURIForCodes() async throws -> String?
    /// The cards to issue codes for, in the order given, in one read; the first card that may not get a code
    /// (`Card.forIssuing`) refuses the lot.
    func cardsForIssuing(numbers: [String], today: CalendarDate) async throws -> [Card]
}
