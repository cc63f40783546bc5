import Synchronization
import YongjunCore

/// Merchants, cashier devices and cards already read by the verification path, valid until the database changes
/// under them. Only hits are kept (a flood of unknown keys cannot grow it), and it is emptied past `capacity` entries.
package final class RegisterCache: Sendable {
    private struct State {
        var dataVersion: Int?
        var merchants: [String: MerchantCredential] = [:]
        var cards: [String: CardStanding] = [:]
        var benefits: [Int64: ShopBenefits] = [:]
    }

    private let state = Mutex(State())
    private let capacity = 200_000

    package init() {}

    /// Empties the cache when another connection committed since the version last seen.
    package func revalidate(dataVersion: Int) {
        state.withLock { state in
            if state.dataVersion != dataVersion || state.cards.count + state.merchants.count > capacity {
                state = State(dataVersion: dataVersion)
            }
        }
    }

    /// The version the cache was last revalidated at (nil before the first time, or after `invalidate`).
    package var dataVersion: Int? { state.withLock { $0.dataVersion } }

    /// Forget everything: this process itself changed a merchant, device or card (its own commits do not move data_version).
    package func invalidate() {
        state.withLock { $0 = State() }
    }

    package func merchant(_ key: String) -> MerchantCredential? { state.withLock { $0.merchants[key] } }
    package func card(_ cardID: String) -> CardStanding? { state.withLock { $0.cards[cardID] } }
    package func store(_ credential: MerchantCredential, for key: String) { state.withLock { $0.merchants[key] = credential } }
    package func store(_ standing: CardStanding) { state.withLock { $0.cards[standing.cardID] = standing } }
    package func benefits(_ merchantID: Int64) -> ShopBenefits? { state.withLock { $0.benefits[merchantID] } }
    package func store(_ benefits: ShopBenefits, for merchantID: Int64) { state.withLock { $0.benefits[merchantID] = benefits } }
}
