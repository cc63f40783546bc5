import Foundation
import HTTPTypes
import YongjunCore
import YongjunStorage

/// Signs codes for holders on this server: the current key, the configured lifetime, a 9-digit stand-in, and
/// an entry in the authenticated-code cache, since this server knows the code is genuine without verifying it.
struct CodeIssuing: Sendable {
    let keys: KeyRingProvider
    let verification: VerificationService
    let settings: ServerSettings
    let statusList: StatusListPublisher

    struct Issued: Sendable {
        let code: IssuedCode
        let shortCode: String
    }

    func issue(for card: Card, now: Date) async throws -> Issued {
        // The verification path's own rule (CardStanding), so no code is issued that would be refused.
        switch card.standing?.rejection(today: CalendarDate(chinaDayOf: now)) {
        case .cardRevoked: throw APIError(status: .forbidden, code: "card_revoked", message: "证件已注销，不能生成优待码")
        case .cardExpired: throw APIError(status: .forbidden, code: "card_expired", message: "证件已过有效期，请到退役军人事务局换证")
        default: break
        }
        _ = keys.reloadIfStale(now: now)
        guard let key = keys.keyRing.current else {
            throw APIError(status: .serviceUnavailable, code: "no_signing_key", message: "服务暂不可用，请稍后再试")
        }
        var generator = SystemRandomNumberGenerator()
        let code = try CodeIssuer(key: key, issuer: settings.issuer, statusListURI: statusList.statusListURI).issue(
            for: card.codeSubject,
            now: now,
            lifetime: settings.codeLifetime,
            using: &generator
        )
        let nowSeconds = Int(now.timeIntervalSince1970)
        verification.cache.insert(code.token, CodeVerifier.Authenticated(kid: key.kid, claims: code.claims), nowSeconds: nowSeconds)
        let shortCode = try await verification.database.registerShortCode(token: code.token, expires: code.claims.exp, now: nowSeconds)
        return Issued(code: code, shortCode: shortCode)
    }
}
