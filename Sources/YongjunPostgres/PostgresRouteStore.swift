import Foundation
import YongjunCore
import YongjunStorage

/// What `serve` gives its routes on PostgreSQL: `PostgresStore`, with every call a route or a page makes answered
/// within `deadline` (15 s, as long as a verification group's statement may take), or failed with
/// `PostgresStatementTimedOut` (503
/// "unavailable" at the HTTP edge, as `StoreUnreachable`).
///
/// A PostgreSQL that froze (a hung host, a full disk, a stopped process: sockets open, nothing answering) answers a
/// statement neither with rows nor with an error, and cancellation does not reach it; without this a holder signing
/// in, a cashier page or the status list waited for as long as the client did. The call is then left to end with its
/// connection; a cancelled call (a client that left, a service stopping) stops waiting at once. The verification log
/// bounds its own statements (and must not be abandoned mid-group) and readiness its ping: those pass straight
/// through. Commands use `PostgresStore` itself, where a year report or an import may rightly run for minutes.
public struct PostgresRouteStore: Store {
    public let base: PostgresStore
    let deadline: Duration

    public init(_ base: PostgresStore) {
        self.init(base, deadline: .seconds(PostgresVerificationTransaction.statementSeconds))
    }

    public init(_ base: PostgresStore, deadline: Duration) {
        self.base = base
        self.deadline = deadline
    }

    private func answered<T: Sendable>(_ call: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        let base = base
        return try await PostgresStore.abandoning(after: deadline, orThrow: PostgresStatementTimedOut()) { try await call(base) }
    }

    // MARK: Passed through

    public func ping() async throws { try await base.ping() }

    public func inVerificationTransaction(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        try await base.inVerificationTransaction(decide)
    }

    public func abandonLockWaits() { base.abandonLockWaits() }
    public func verificationLogStopped() async { await base.verificationLogStopped() }

    // MARK: Answered within the deadline

    /// Background work, but a service: one waiting on a connection that never answers would keep the server from
    /// stopping (SIGTERM ended in "Cancellation took longer than allowed" after PostgreSQL had been frozen).
    public func indexCardHistory(settled: String, batch: Int) async throws -> Int {
        try await answered { try await $0.indexCardHistory(settled: settled, batch: batch) }
    }

    public func recentVerifications(now: Date, since earliest: Date) async throws -> [VerificationEntry] {
        try await answered { try await $0.recentVerifications(now: now, since: earliest) }
    }

    public func registerShortCode(token: String, expires: Int, now: Int) async throws -> String {
        try await answered { try await $0.registerShortCode(token: token, expires: expires, now: now) }
    }

    public func shopHistory(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopHistoryEntry] {
        try await answered { try await $0.shopHistory(merchantID: merchantID, before: before, month: month, limit: limit) }
    }

    public func holderHistory(cardID: String, limit: Int) async throws -> [HolderHistoryEntry] {
        try await answered { try await $0.holderHistory(cardID: cardID, limit: limit) }
    }

    public func holderSignInState(cardNo: String, now: Date) async throws -> Result<StoredHolderSecrets?, HolderAccessError> {
        try await answered { try await $0.holderSignInState(cardNo: cardNo, now: now) }
    }

    public func finishHolderSignIn(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        newPINHash: String?
    ) async throws -> Result<Card, HolderAccessError> {
        try await answered {
            try await $0.finishHolderSignIn(cardNo: cardNo, now: now, matched: matched, checked: checked, newPINHash: newPINHash)
        }
    }

    public func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) async throws {
        try await answered { try await $0.createHolderSession(cardID: cardID, token: token, now: now, lifetime: lifetime) }
    }

    public func holderSessionCard(token: String, now: Date) async throws -> Card? {
        try await answered { try await $0.holderSessionCard(token: token, now: now) }
    }

    public func endHolderSession(token: String) async throws {
        try await answered { try await $0.endHolderSession(token: token) }
    }

    public func merchant(presenting key: MerchantAPIKey) async throws -> Merchant? {
        try await answered { try await $0.merchant(presenting: key) }
    }

    public func merchant(deviceToken token: String) async throws -> Merchant? {
        try await answered { try await $0.merchant(deviceToken: token) }
    }

    public func merchant(id: Int64) async throws -> Merchant? {
        try await answered { try await $0.merchant(id: id) }
    }

    public func merchants(status: Merchant.Status?, industry: Industry?) async throws -> [Merchant] {
        try await answered { try await $0.merchants(status: status, industry: industry) }
    }

    public func addShopDevice(merchantID: Int64, token: String, label: String, now: Date) async throws {
        try await answered { try await $0.addShopDevice(merchantID: merchantID, token: token, label: label, now: now) }
    }

    public func shopDevices(merchantID: Int64) async throws -> [ShopDevice] {
        try await answered { try await $0.shopDevices(merchantID: merchantID) }
    }

    public func revokeShopDevice(merchantID: Int64, deviceID: Int64, now: Date) async throws -> Bool {
        try await answered { try await $0.revokeShopDevice(merchantID: merchantID, deviceID: deviceID, now: now) }
    }

    public func snapshotBenefitRules(merchantID: Int64) async throws -> [BenefitRule] {
        try await answered { try await $0.snapshotBenefitRules(merchantID: merchantID) }
    }

    public func allBenefitRules() async throws -> [Int64: [BenefitRule]] {
        try await answered { try await $0.allBenefitRules() }
    }

    public func openBatchNumber() async throws -> Int64? {
        try await answered { try await $0.openBatchNumber() }
    }

    public func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String {
        try await answered { try await $0.submitApplication(application, batch: number, now: now) }
    }

    public func statusListSource(today: CalendarDate) async throws -> StatusListSource {
        try await answered { try await $0.statusListSource(today: today) }
    }

    public func setServiceState(_ name: String, _ value: String) async throws {
        try await answered { try await $0.setServiceState(name, value) }
    }

    public func auditedSigningKeyIDs() async throws -> Set<String> {
        try await answered { try await $0.auditedSigningKeyIDs() }
    }
}
