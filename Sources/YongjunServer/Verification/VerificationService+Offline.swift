import Foundation
import YongjunCore
import YongjunStorage

extension VerificationService {
    /// One record a shop device made offline, as uploaded.
    public struct OfflineSubmission: Sendable, Decodable {
        public var code: String
        public var nonce: String
        /// The device's time, `2026-11-29T09:14:03.120Z`.
        public var verifiedAt: String
        /// `valid` or the reason the device gave.
        public var result: String
    }

    /// What the server made of one uploaded record.
    public struct OfflineOutcome: Sendable, Encodable {
        public enum Status: String, Sendable, Encodable {
            case accepted, duplicate, rejected
        }

        public var nonce: String
        public var status: Status
        public var verificationId: String?
        public var serverResult: String?
        public var conflict: String?
        /// Why a record was rejected (not recorded at all).
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case nonce, status, verificationId, serverResult, conflict, error
        }

        /// `conflict` is always there (null when none); the others only when they apply.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(nonce, forKey: .nonce)
            try container.encode(status, forKey: .status)
            try container.encodeIfPresent(verificationId, forKey: .verificationId)
            try container.encodeIfPresent(serverResult, forKey: .serverResult)
            if status != .rejected { try container.encode(conflict, forKey: .conflict) }
            try container.encodeIfPresent(error, forKey: .error)
        }
    }

    /// How far back an offline record may be dated: a device that has not synced for this long could not have verified.
    static let offlineRecordMaximumAge: TimeInterval = 30 * 86_400

    /// Re-checks each offline record against the register as it stood at `verifiedAt` and records it once (the
    /// shop's nonce is unique among its offline records), with the device's and the server's result and any
    /// disagreement. A suspended or revoked shop may still upload; its records are flagged. Runs as one job of the
    /// verification log, so it is ordered with online decisions: the single-use index sees both.
    public func recordOffline(_ submissions: [OfflineSubmission], credential: ShopCredential) async throws(VerificationFailure) -> [OfflineOutcome] {
        let shop = try Self.identify(credential)
        let now = now()
        var generator = SystemRandomNumberGenerator()
        var prepared: [PreparedOffline] = []
        var outcomes: [OfflineOutcome?] = Array(repeating: nil, count: submissions.count)
        for (position, submission) in submissions.enumerated() {
            func reject(_ error: String) { outcomes[position] = OfflineOutcome(nonce: submission.nonce, status: .rejected, error: error) }
            guard (1...128).contains(submission.nonce.utf8.count) else {
                reject("nonce 长度须为 1–128 个字符")
                continue
            }
            guard submission.result == "valid" || VerificationReason(rawValue: submission.result) != nil else {
                reject("result 须为 valid 或核验原因代码")
                continue
            }
            guard let verifiedAt = Timestamp.parse(submission.verifiedAt) else {
                reject("verifiedAt 格式须为 2026-11-29T09:14:03.120Z")
                continue
            }
            guard verifiedAt <= now.addingTimeInterval(TimeInterval(settings.clockLeeway)),
                verifiedAt >= now.addingTimeInterval(-Self.offlineRecordMaximumAge)
            else {
                reject("verifiedAt 不能晚于现在，也不能早于 30 天前")
                continue
            }
            let checked: Result<CodeVerifier.Authenticated, CodeRejection> =
                ShortCode.looksLikeShortCode(submission.code) ? .failure(.unknownShortCode) : authenticate(submission.code, now: now)
            prepared.append(
                PreparedOffline(
                    position: position,
                    submission: submission,
                    verifiedAt: verifiedAt,
                    checked: checked,
                    verificationID: RandomText.timeOrderedID(millis: UInt64(max(0, now.timeIntervalSince1970 * 1000)), using: &generator)
                )
            )
        }
        let items = prepared
        let pseudonyms = keys.pseudonyms
        let receivedAt = clockText.iso(now)
        let leeway = settings.clockLeeway
        let decided: Result<[(Int, OfflineOutcome)], Refusal>
        do {
            decided = try await log.submit { transaction in
                let credential: MerchantCredential?
                switch shop {
                case .apiKey(let id, let secretHash):
                    credential = try transaction.merchantCredential(apiKeyID: id).flatMap {
                        MerchantAPIKey.hashesMatch(secretHash, $0.keyHash) ? $0 : nil
                    }
                case .device(let tokenHash):
                    credential = try transaction.merchantCredential(deviceTokenHash: tokenHash)
                }
                guard let merchant = credential else { return .failure(.unknownKey) }
                let inactiveSince: String? =
                    merchant.status == .active ? nil : (try transaction.merchantStatusSince(id: merchant.merchantID) ?? "")
                return .success(
                    try items.map { item in
                        (
                            item.position,
                            try Self.judgeOffline(
                                item,
                                merchantID: merchant.merchantID,
                                pseudonyms: pseudonyms,
                                inactiveSince: inactiveSince,
                                leeway: leeway,
                                receivedAt: receivedAt,
                                in: transaction
                            )
                        )
                    }
                )
            }
        } catch {
            throw .unavailable
        }
        switch decided {
        case .failure(let refusal): throw .refused(refusal)
        case .success(let judged): for (position, outcome) in judged { outcomes[position] = outcome }
        }
        return outcomes.compactMap { $0 }
    }

    struct PreparedOffline: Sendable {
        let position: Int
        let submission: OfflineSubmission
        let verifiedAt: Date
        let checked: Result<CodeVerifier.Authenticated, CodeRejection>
        let verificationID: String
    }

    /// The register at `verifiedAt`: a card revoked later was still valid then; a shop suspended since then was
    /// still a partner.
    private static func judgeOffline(
        _ item: PreparedOffline,
        merchantID: Int64,
        pseudonyms: HolderPseudonyms,
        inactiveSince: String?,
        leeway: Int,
        receivedAt: String,
        in transaction: any VerificationTransaction
    ) throws -> OfflineOutcome {
        let nonce = item.submission.nonce
        if let stored = try transaction.storedOfflineRecord(merchantID: merchantID, nonce: nonce) {
            return OfflineOutcome(
                nonce: nonce,
                status: .duplicate,
                verificationId: stored.verificationID,
                serverResult: stored.serverResult,
                conflict: stored.conflict
            )
        }
        let verifiedAtText = Timestamp.iso(item.verifiedAt)
        let authenticated = try? item.checked.get()
        let claims = authenticated?.claims
        let history = try claims.flatMap { try transaction.cardHistory(id: $0.sub) }
        var reason: VerificationReason?
        switch item.checked {
        case .failure(let rejection): reason = VerificationReason(rejection)
        case .success(let authenticated):
            if let rejection = authenticated.claims.timeRejection(now: item.verifiedAt, leeway: leeway) {
                reason = VerificationReason(rejection)
            } else if let history {
                let revokedThen = history.standing.revoked && (history.revokedAt.map { $0 <= verifiedAtText } ?? true)
                if revokedThen {
                    reason = .cardRevoked
                } else if history.standing.validUntil < CalendarDate(chinaDayOf: item.verifiedAt) {
                    reason = .cardExpired
                }
            } else {
                reason = .unknownCard
            }
        }
        let deviceSaidValid = item.submission.result == "valid"
        let pseudonym = history.map { pseudonyms.pseudonym(cardID: $0.standing.cardID, merchantID: merchantID) }
        // A record says what happened at the counter: a code the device refused gave no benefit, so it is not a
        // valid use, whatever the register says now (the server's own view shows in the conflict, if any).
        if reason == nil, !deviceSaidValid { reason = VerificationReason(rawValue: item.submission.result) ?? .malformed }
        var benefit: GrantedBenefit?
        if reason == nil, let history {
            benefit = try Self.benefit(for: history.standing, merchantID: merchantID, at: item.verifiedAt, in: transaction)
        }
        // Only a use the cashier honoured takes the code: a device that refused gave no benefit.
        let use = claims.map { CodeUse(of: $0, now: item.verifiedAt, leeway: leeway) }
        func record(_ reason: VerificationReason?, takesUse: Bool) -> OfflineRecord {
            var conflict: String?
            if let inactiveSince, inactiveSince <= verifiedAtText {
                conflict = "merchant_suspended"
            } else if deviceSaidValid, let reason {
                conflict = [.alreadyUsedHere, .cardRevoked, .cardExpired].contains(reason) ? reason.rawValue : "result_differs"
            }
            let entry = VerificationEntry(
                id: item.verificationID,
                merchantID: merchantID,
                cardID: history?.standing.cardID,
                codeID: claims?.jti,
                keyID: authenticated?.kid,
                valid: reason == nil,
                reason: reason?.rawValue,
                nonce: nonce,
                codeExpiresAt: use?.until,
                createdAt: verifiedAtText,
                response: responseBody(
                    reason: reason,
                    claims: claims,
                    card: history?.standing,
                    verificationID: item.verificationID,
                    benefit: reason == nil ? benefit : nil,
                    pseudonym: pseudonym
                ),
                useKey: takesUse ? use?.key : nil,
                eligible: reason == nil ? benefit?.eligible : nil,
                benefit: reason == nil ? benefit?.text : nil,
                benefitRule: reason == nil && takesUse ? benefit?.rule : nil
            )
            return OfflineRecord(entry: entry, deviceResult: item.submission.result, conflict: conflict, receivedAt: receivedAt)
        }
        var kept = record(reason, takesUse: reason == nil && deviceSaidValid)
        if try transaction.recordOffline(kept) {
            if reason == nil { try benefit?.record(for: kept.entry, in: transaction) }
        } else {
            kept = record(.alreadyUsedHere, takesUse: false)
            guard try transaction.recordOffline(kept) else { throw VerificationRecordError.notInserted }
        }
        return OfflineOutcome(
            nonce: nonce,
            status: .accepted,
            verificationId: item.verificationID,
            serverResult: kept.entry.reason ?? "valid",
            conflict: kept.conflict
        )
    }
}
