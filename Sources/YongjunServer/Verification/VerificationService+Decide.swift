import Foundation
import Synchronization
import YongjunCore
import YongjunStorage

extension VerificationService {
    /// Runs inside the verification log's transaction, one request at a time, so the shop and card are read as they
    /// stand right now and a guess budget or a 9-digit number cannot be raced.
    func decide(_ request: Request, in transaction: any VerificationTransaction) throws -> Decision {
        let credential: MerchantCredential?
        switch request.shop {
        case .apiKey(let id, let secretHash):
            credential = try transaction.merchantCredential(apiKeyID: id).flatMap { MerchantAPIKey.hashesMatch(secretHash, $0.keyHash) ? $0 : nil }
        case .device(let tokenHash):
            credential = try transaction.merchantCredential(deviceTokenHash: tokenHash)
        }
        guard let merchant = credential else { return .refused(.unknownKey) }
        switch merchant.status {
        case .active: break
        case .suspended: return .refused(.merchantSuspended)
        case .revoked: return .refused(.merchantRevoked)
        }
        let merchantID = merchant.merchantID
        let nowSeconds = request.nowSeconds
        if let nonce = request.nonce,
            case .replay(let body) = ledger.lookUp(merchantID: merchantID, nonce: nonce, useKey: nil, nowSeconds: nowSeconds)
        {
            return .answered(Answer(body: body, merchantID: merchantID, reason: nil, replayed: true), nil)
        }
        let checked: Result<CodeVerifier.Authenticated, CodeRejection>
        var redeemed: String?
        switch request.code {
        case .signed(let result): checked = result
        case .shortCode(let number):
            switch try transaction.redeemShortCode(number, merchantID: merchantID, now: nowSeconds, budget: guessBudget) {
            case .blocked(let seconds): return .throttled(seconds)
            case .miss: checked = .failure(.unknownShortCode)
            case .token(let token):
                redeemed = token
                checked = authenticate(token, now: request.now)
            }
        }
        if let nonce = request.nonce,
            let body = try transaction.claimNonce(
                merchantID: merchantID,
                nonce: nonce,
                verificationID: request.verificationID,
                keepUntil: request.keepNonceUntil(settings),
                now: nowSeconds
            )
        {
            // A replay: the group still commits, so put back a 9-digit number this request took.
            if case .shortCode(let number) = request.code, let redeemed {
                try transaction.restoreShortCode(number, token: redeemed, expires: (try? checked.get().claims.exp) ?? nowSeconds)
            }
            return .answered(Answer(body: body, merchantID: merchantID, reason: nil, replayed: true), nil)
        }
        pruneNoncesIfDue(transaction, nowSeconds: nowSeconds)
        let entry = try record(request, merchantID: merchantID, checked: checked, in: transaction)
        return .answered(Answer(body: entry.response, merchantID: merchantID, reason: entry.reason.flatMap(VerificationReason.init)), entry)
    }

    /// Judges the code and the card, and records the verification; the unique index on what a valid verification
    /// uses up turns a second use into `already_used_here`, whatever memory believed.
    private func record(
        _ request: Request,
        merchantID: Int64,
        checked: Result<CodeVerifier.Authenticated, CodeRejection>,
        in transaction: any VerificationTransaction
    ) throws -> VerificationEntry {
        let authenticated = try? checked.get()
        let claims = authenticated?.claims
        let card = try claims.flatMap { try transaction.cardStanding(id: $0.sub) }
        var reason: VerificationReason?
        switch checked {
        case .failure(let rejection): reason = VerificationReason(rejection)
        case .success(let authenticated):
            if let rejection = authenticated.claims.timeRejection(now: request.now, leeway: settings.clockLeeway) {
                reason = VerificationReason(rejection)
            } else if let card {
                reason = card.rejection(today: CalendarDate(chinaDayOf: request.now))
            } else {
                reason = .unknownCard
            }
        }
        let use = claims.map { CodeUse(of: $0, now: request.now, leeway: settings.clockLeeway) }
        if reason == nil, let use,
            case .used = ledger.lookUp(merchantID: merchantID, nonce: nil, useKey: use.key, nowSeconds: request.nowSeconds)
        {
            reason = .alreadyUsedHere
        }
        let benefit = try card.flatMap { card in
            reason == nil ? try Self.benefit(for: card, merchantID: merchantID, at: request.now, in: transaction) : nil
        }
        let pseudonym = card.map { keys.pseudonyms.pseudonym(cardID: $0.cardID, merchantID: merchantID) }
        func entry(_ reason: VerificationReason?) -> VerificationEntry {
            let granted = reason == nil ? benefit : nil
            return VerificationEntry(
                id: request.verificationID,
                merchantID: merchantID,
                cardID: card?.cardID,
                codeID: claims?.jti,
                keyID: authenticated?.kid,
                valid: reason == nil,
                reason: reason?.rawValue,
                nonce: request.nonce,
                codeExpiresAt: use?.until,
                createdAt: request.createdAt,
                response: Self.responseBody(
                    reason: reason,
                    claims: claims,
                    card: card,
                    verificationID: request.verificationID,
                    benefit: granted,
                    pseudonym: pseudonym
                ),
                useKey: reason == nil ? use?.key : nil,
                eligible: granted.map(\.eligible),
                benefit: granted?.text,
                benefitRule: granted?.rule
            )
        }
        let first = entry(reason)
        if try transaction.record(first) {
            try benefit?.record(for: first, in: transaction)
            return first
        }
        let second = entry(.alreadyUsedHere)
        guard try transaction.record(second) else { throw VerificationRecordError.notInserted }
        return second
    }

    /// Verification nonces past their retention are dropped at most once an hour, inside a group.
    private func pruneNoncesIfDue(_ transaction: any VerificationTransaction, nowSeconds: Int) {
        guard nowSeconds >= nextNoncePrune.load(ordering: .relaxed) else { return }
        nextNoncePrune.store(nowSeconds + 3600, ordering: .relaxed)
        try? transaction.pruneNonces(now: nowSeconds)
    }

    /// Signature and claims, from the cache when this exact code was seen before.
    func authenticate(_ code: String, now: Date) -> Result<CodeVerifier.Authenticated, CodeRejection> {
        if let hit = cache.lookup(code) { return .success(hit) }
        var result = keys.verifier.authenticate(code)
        if case .failure(.unknownKey) = result, keys.reloadIfStale(now: now) {
            cache.removeAll()
            result = keys.verifier.authenticate(code)
        }
        if case .success(let authenticated) = result {
            cache.insert(code, authenticated, nowSeconds: Int(now.timeIntervalSince1970))
        }
        return result
    }

    /// What this shop's rules give this holder at `now`: the one rule of eligibility for online and offline records.
    static func benefit(
        for card: CardStanding,
        merchantID: Int64,
        at now: Date,
        in transaction: any VerificationTransaction
    ) throws -> GrantedBenefit {
        let shop = try transaction.benefits(merchantID: merchantID)
        let day = CalendarDate(chinaDayOf: now)
        let decision = try shop.rules.decide(category: card.category, day: day, fallback: shop.fallback) { rule in
            try transaction.hadBenefit(merchantID: merchantID, cardID: card.cardID, rule: rule, day: day.description)
        }
        switch decision {
        case .eligible(let text, let rule):
            let daily = rule.map { shop.rules[$0].oncePerDay } ?? false
            return GrantedBenefit(eligible: true, text: text, rule: rule, oncePerDay: daily, day: day.description)
        case .notEligible: return GrantedBenefit(eligible: false, text: nil, rule: nil, oncePerDay: false, day: day.description)
        }
    }

    struct GrantedBenefit: Sendable {
        let eligible: Bool
        let text: String?
        let rule: Int?
        /// The rule is once a day: its grant is recorded with the verification (`benefit_grants`).
        let oncePerDay: Bool
        let day: String

        /// Records the grant of a once-a-day rule, in the transaction that recorded `entry` as a valid use.
        func record(for entry: VerificationEntry, in transaction: any VerificationTransaction) throws {
            guard eligible, oncePerDay, let rule, let cardID = entry.cardID, entry.useKey != nil else { return }
            _ = try transaction.grantBenefit(merchantID: entry.merchantID, cardID: cardID, rule: rule, day: day, verificationID: entry.id)
        }
    }

    static func responseBody(
        reason: VerificationReason?,
        claims: CodeClaims?,
        card: CardStanding?,
        verificationID: String,
        benefit: GrantedBenefit? = nil,
        pseudonym: String? = nil
    ) -> String {
        var json = JSONText()
        if let reason {
            json.add("valid", false)
            json.add("reason", reason.rawValue)
            json.add("message", reason.message)
        } else if let claims, let card {
            json.add("valid", true)
            json.add("category", card.category.rawValue)
            json.add("categoryLabel", card.category.label)
            json.add("holder", claims.name)
            json.add("cardExpires", card.validUntil.description)
            if let benefit, !benefit.eligible {
                json.add("eligible", false)
                json.add("reason", VerificationReason.notEligibleHere.rawValue)
                json.add("message", VerificationReason.notEligibleHere.message)
            } else {
                json.add("eligible", true)
                json.add("benefit", benefit?.text)
                json.add("message", "请核对优待证")
            }
            json.add("pseudonym", pseudonym)
        }
        json.add("verificationId", verificationID)
        return json.string
    }
}

/// A record the database would not take even as `already_used_here`: the group is rolled back and answered 503.
enum VerificationRecordError: Error {
    case notInserted
}
