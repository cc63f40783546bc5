import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresVerificationTransaction {
    // MARK: Sending the buffered writes

    /// Inserts what the group recorded; nil when every optimistic answer held, else what the next pass must know.
    func flush() throws -> GroupHints? {
        var next = hints
        var conflict = false
        for chunk in records.chunked(1000) {
            var binds = PostgresBindings(capacity: chunk.count * 15)
            var rows: [String] = []
            for entry in chunk {
                let base = binds.count
                rows.append("(" + (1...15).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                binds.append(entry.id)
                binds.append(entry.merchantID)
                binds.append(entry.cardID)
                binds.append(entry.codeID)
                binds.append(entry.keyID)
                binds.append(Int64(entry.valid ? 1 : 0))
                binds.append(entry.reason)
                binds.append(entry.nonce)
                binds.append(entry.codeExpiresAt.map(Int64.init))
                binds.append(entry.createdAt)
                binds.append(entry.response)
                binds.append(entry.useKey)
                binds.append(entry.eligible.map { Int64($0 ? 1 : 0) })
                binds.append(entry.benefit)
                binds.append(entry.benefitRule.map(Int64.init))
            }
            let inserted = try run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO verifications
                            (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                             eligible, benefit, benefit_rule)
                        VALUES \(rows.joined(separator: ", "))
                        ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING
                        RETURNING id
                        """,
                    binds: binds
                )
            )
            guard inserted.count < chunk.count else { continue }
            let stored = Set(try inserted.map { try $0.decode(String.self) })
            for entry in chunk where !stored.contains(entry.id) {
                guard let useKey = entry.useKey else { throw VerificationGroupError.recordRefused(entry.id) }
                next.takenKeys.insert(UseKey(merchantID: entry.merchantID, useKey: useKey))
                conflict = true
            }
        }
        if !nonces.isEmpty {
            let now = nonces.map(\.now).min() ?? 0
            var binds = PostgresBindings(capacity: nonces.count * 4 + 1)
            binds.append(Int64(now))
            var rows: [String] = []
            for claim in nonces {
                let base = binds.count
                rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
                binds.append(claim.merchantID)
                binds.append(claim.nonce)
                binds.append(claim.verificationID)
                binds.append(Int64(claim.keepUntil))
            }
            let inserted = try run(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO verification_nonces (merchant_id, nonce, verification_id, keep_until) VALUES \(rows.joined(separator: ", "))
                        ON CONFLICT (merchant_id, nonce) DO UPDATE
                            SET verification_id = excluded.verification_id, keep_until = excluded.keep_until
                            WHERE verification_nonces.keep_until <= $1
                        RETURNING merchant_id, nonce
                        """,
                    binds: binds
                )
            )
            if inserted.count < nonces.count {
                let stored = Set(try inserted.map { row in try row.decode((Int64, String).self) }.map { NonceKey(merchantID: $0.0, nonce: $0.1) })
                for claim in nonces where !stored.contains(NonceKey(merchantID: claim.merchantID, nonce: claim.nonce)) {
                    let answer = try run(
                        """
                        SELECT verifications.response FROM verification_nonces
                        JOIN verifications ON verifications.id = verification_nonces.verification_id
                        WHERE verification_nonces.merchant_id = \(claim.merchantID) AND verification_nonces.nonce = \(claim.nonce)
                        """
                    ).first?.decode(String.self)
                    next.claimedNonces[NonceKey(merchantID: claim.merchantID, nonce: claim.nonce)] = answer ?? ""
                    conflict = true
                }
            }
        }
        for grant in grants {
            let key = grant.key
            let inserted = try run(
                """
                INSERT INTO benefit_grants (merchant_id, card_id, day, rule, verification_id)
                VALUES (\(key.merchantID), \(key.cardID), \(key.day), \(key.rule), \(grant.verificationID)) ON CONFLICT DO NOTHING
                """
            )
            if inserted.metadata.rows != 1 {
                next.takenGrants.insert(key)
                conflict = true
            }
        }
        return conflict ? next : nil
    }
}

/// What a pass of a group found taken by another instance, for the next pass to decide with.
struct GroupHints: Sendable {
    var takenKeys: Set<UseKey> = []
    var claimedNonces: [NonceKey: String] = [:]
    var takenGrants: Set<GrantKey> = []
}

struct UseKey: Hashable, Sendable {
    let merchantID: Int64
    let useKey: String
}

struct NonceKey: Hashable, Sendable {
    let merchantID: Int64
    let nonce: String
}

struct GrantKey: Hashable, Sendable {
    let merchantID: Int64
    let cardID: String
    let day: String
    let rule: Int
}

enum VerificationGroupError: Error {
    /// A record without a use key was not inserted: nothing but the single-use index may refuse one.
    case recordRefused(String)
    /// Another instance kept taking what this group decided on; it was rolled back.
    case keptConflicting
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
