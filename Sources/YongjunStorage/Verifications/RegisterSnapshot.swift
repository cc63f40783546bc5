import GRDB
import Synchronization
import YongjunCore

/// The register as seen inside the verification log's transaction: shops by API key id, cards by id.
///
/// Reads go through `RegisterCache`, which is emptied whenever another connection (the admin CLI) has committed
/// since the last group: SQLite's `data_version` tells, at the cost of one pragma per group instead of two
/// queries per request. The group runs in an IMMEDIATE transaction, so nothing can commit in between.
public struct RegisterSnapshot {
    let db: Database
    let cache: RegisterCache

    init(db: Database, cache: RegisterCache) throws {
        self.db = db
        self.cache = cache
        let version = try Int.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        cache.revalidate(dataVersion: version)
    }

    /// The shop holding API key `apiKeyID`, if any.
    public func merchantCredential(apiKeyID: String) throws -> MerchantCredential? {
        if let cached = cache.merchant(apiKeyID) { return cached }
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, status, api_key_hash FROM merchants WHERE api_key_id = ?"),
            arguments: [apiKeyID]
        )
        guard let row, let status = Merchant.Status(rawValue: row[1]), let hash: String = row[2] else { return nil }
        let credential = MerchantCredential(merchantID: row[0], status: status, keyHash: hash)
        cache.store(credential, for: apiKeyID)
        return credential
    }

    /// A card's category, validity and revocation, if the card exists.
    public func cardStanding(id cardID: String) throws -> CardStanding? {
        if let cached = cache.card(cardID) { return cached }
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT category, valid_until, status FROM cards WHERE id = ?"),
            arguments: [cardID]
        )
        guard let row, let category = CardCategory(rawValue: row[0]), let validUntil = CalendarDate(iso: row[1]) else { return nil }
        let standing = CardStanding(cardID: cardID, category: category, validUntil: validUntil, revoked: row[2] == "revoked")
        cache.store(standing)
        return standing
    }
}

/// Merchants and cards already read by the verification path, valid until the database changes under them.
/// Only hits are kept (a flood of unknown keys cannot grow it), and it is emptied past `capacity` entries.
final class RegisterCache: Sendable {
    private struct State {
        var dataVersion: Int?
        var merchants: [String: MerchantCredential] = [:]
        var cards: [String: CardStanding] = [:]
    }

    private let state = Mutex(State())
    private let capacity = 200_000

    /// Empties the cache when another connection committed since the version last seen.
    func revalidate(dataVersion: Int) {
        state.withLock { state in
            if state.dataVersion != dataVersion || state.cards.count + state.merchants.count > capacity {
                state = State(dataVersion: dataVersion)
            }
        }
    }

    /// Forget everything: this process itself changed a merchant or card (its own commits do not move data_version).
    func invalidate() {
        state.withLock { $0 = State() }
    }

    func merchant(_ apiKeyID: String) -> MerchantCredential? { state.withLock { $0.merchants[apiKeyID] } }
    func card(_ cardID: String) -> CardStanding? { state.withLock { $0.cards[cardID] } }
    func store(_ credential: MerchantCredential, for apiKeyID: String) { state.withLock { $0.merchants[apiKeyID] = credential } }
    func store(_ standing: CardStanding) { state.withLock { $0.cards[standing.cardID] = standing } }
}
