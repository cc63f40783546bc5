import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// The one way a holder proves who they are — the printed activation code (choosing a PIN), or the PIN — for the
/// JSON API and the `/card` pages alike, and the one place where its failures become answers (`APIError`).
///
/// The lock is checked before any hash; every attempt costs one PIN hash on `PINHashPool`, whether or not the card
/// exists or is activated, and all of those fail alike: neither the answer nor its timing tells card numbers apart.
struct HolderSignIn: Sendable {
    let database: any Store
    let pool: PINHashPool
    let hasher: PINHasher
    let sessionLifetime: Int
    /// A hash of the same cost to check against when the card has no PIN, so a miss takes as long as a wrong PIN.
    let decoy: String
    /// Card numbers longer than this are not looked up (every real one is far shorter).
    static let maximumCardNumberLength = 64

    init(database: any Store, pool: PINHashPool, rounds: Int, sessionLifetime: Int) {
        self.database = database
        self.pool = pool
        self.hasher = PINHasher(rounds: rounds)
        self.sessionLifetime = sessionLifetime
        var generator = SystemRandomNumberGenerator()
        self.decoy = (try? PINHasher(rounds: rounds).hash("000000", using: &generator)) ?? ""
    }

    /// Checks the activation code and sets `pin` (already checked against `PINRule`).
    func activate(cardNo: String, activationCode: String, pin: String) async throws -> Card {
        let cardNo = Self.normalized(cardNo)
        let now = Date()
        let secrets = try await state(cardNo: cardNo, now: now, activating: true)
        let hasher = hasher
        let pinHash = try await hash { () throws -> String in
            var generator = SystemRandomNumberGenerator()
            return try hasher.hash(pin, using: &generator)
        }
        let presented = HolderSecret.digest(HolderSecret.normalizedActivationCode(activationCode))
        let matched =
            secrets?.pinHash == nil && (secrets?.activationHash.map { ConstantTime.equal(Array($0.utf8), Array(presented.utf8)) } ?? false)
        return try await finish(cardNo: cardNo, now: now, matched: matched, checked: secrets, activating: true, newPINHash: pinHash)
    }

    /// Checks a PIN, counting failures.
    func signIn(cardNo: String, pin: String) async throws -> Card {
        let cardNo = Self.normalized(cardNo)
        let now = Date()
        let secrets = try await state(cardNo: cardNo, now: now, activating: false)
        let (hasher, stored) = (hasher, secrets?.pinHash)
        let decoy = decoy
        let matched = try await hash { hasher.verify(pin, against: stored ?? decoy) && stored != nil }
        return try await finish(cardNo: cardNo, now: now, matched: matched, checked: secrets, activating: false)
    }

    /// Records the attempt. A "card number" longer than any real one fails like any other attempt but is not
    /// stored: counting failures per made-up string would let a hostile client fill the table.
    private func finish(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        activating: Bool,
        newPINHash: String? = nil
    ) async throws -> Card {
        guard cardNo.utf8.count <= Self.maximumCardNumberLength else {
            throw Self.answer(.wrongCredentials(attemptsLeft: SignInLock.maximumFailures - 1), activating: activating)
        }
        let result = try await database.finishHolderSignIn(cardNo: cardNo, now: now, matched: matched, checked: checked, newPINHash: newPINHash)
        return try result.mapError { Self.answer($0, activating: activating) }.get()
    }

    /// A new session for `card`: the token to set as the `yj_session` cookie.
    func startSession(for card: Card) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let token = HolderSecret.sessionToken(using: &generator)
        try await database.createHolderSession(cardID: card.id, token: token, now: Date(), lifetime: TimeInterval(sessionLifetime))
        return token
    }

    private func state(cardNo: String, now: Date, activating: Bool) async throws -> StoredHolderSecrets? {
        guard cardNo.utf8.count <= Self.maximumCardNumberLength else { return nil }
        return try await database.holderSignInState(cardNo: cardNo, now: now).mapError { Self.answer($0, activating: activating) }.get()
    }

    private func hash<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool.run(body)
        } catch is PINHashPool.Busy {
            throw APIError(status: .serviceUnavailable, code: "busy", message: "登录人数较多，请稍候几秒再试", retryAfter: 5)
        }
    }

    static func normalized(_ cardNo: String) -> String {
        cardNo.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the holder is told, in one place for the API and the pages.
    static func answer(_ error: HolderAccessError, activating: Bool) -> APIError {
        switch error {
        case .wrongCredentials(let left):
            let message =
                activating
                ? "证号或激活码不正确，还可尝试 \(left) 次（已激活的请直接用 PIN 登录）"
                : "证号或 PIN 不正确，还可尝试 \(left) 次（首次使用请先激活）"
            return APIError(status: .unauthorized, code: "wrong_credentials", message: message)
        case .locked(let seconds?):
            let wait = seconds > 90 * 60 ? "\((seconds + 3599) / 3600) 小时" : "\((seconds + 59) / 60) 分钟"
            return APIError(
                status: .tooManyRequests,
                code: "locked",
                message: "错误次数过多，已暂时锁定，请 \(wait)后再试，或联系退役军人事务局解锁",
                retryAfter: seconds
            )
        case .locked(nil):
            return APIError(status: .tooManyRequests, code: "locked", message: "错误次数过多，已锁定，请携带优待证联系退役军人事务局解锁")
        case .cardNotUsable(let reason):
            return APIError(status: .forbidden, code: "card_not_usable", message: reason)
        }
    }
}
