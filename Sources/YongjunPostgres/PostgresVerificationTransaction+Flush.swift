import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresVerificationTransaction {
    // MARK: Sending the buffered writes

    /// The most rows of a kind one statement carries (15 parameters a record; PostgreSQL takes at most 65,535).
    static let rowsPerStatement = 1000

    static let insertRecords = """
        INSERT INTO verifications
            (id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
             eligible, benefit, benefit_rule)
        """
    static let keepOwnRecords = "ON CONFLICT (merchant_id, use_key) WHERE use_key IS NOT NULL DO NOTHING"
    static let insertNonces = "INSERT INTO verification_nonces (merchant_id, nonce, verification_id, keep_until)"
    /// `now`: the parameter holding the group's earliest "now"; a nonce past its retention may be claimed again.
    static func keepLiveNonces(now: String) -> String {
        """
        ON CONFLICT (merchant_id, nonce) DO UPDATE
            SET verification_id = excluded.verification_id, keep_until = excluded.keep_until
            WHERE verification_nonces.keep_until <= \(now)
        """
    }
    static let insertGrants = "INSERT INTO benefit_grants (merchant_id, card_id, day, rule, verification_id)"

    /// Whether the group's writes fit one statement (`commitAsOneStatement`).
    var fitsOneStatement: Bool {
        records.count <= Self.rowsPerStatement && nonces.count <= Self.rowsPerStatement && grants.count <= Self.rowsPerStatement
    }

    /// How a one-statement write ended.
    enum OneStatementOutcome {
        case committed
        /// Another instance took a use key, nonce or daily benefit of the group; nothing was written.
        case rowTaken
        /// The register changed since `registerVersion`; nothing was written.
        case registerChanged
    }

    /// The group's writes as one statement, outside any transaction: PostgreSQL commits it (fsync included) as a whole
    /// or not at all, so the group needs neither BEGIN nor COMMIT. With `registerVersion` (the version the register
    /// cache was checked at, when this pass read it without asking) the same statement checks that the register has
    /// not moved since, which spares the group the round trip of reading the version first.
    func commitAsOneStatement(registerVersion: Int?) throws -> OneStatementOutcome {
        var binds = PostgresBindings(capacity: records.count * 15 + nonces.count * 4 + grants.count * 5 + 4)
        var steps: [String] = []
        var checks: [String] = []
        if !records.isEmpty {
            let values = Self.recordValues(records[...], into: &binds)
            steps.append("v AS (\(Self.insertRecords) VALUES \(values) \(Self.keepOwnRecords) RETURNING 1)")
            binds.append(Int64(records.count))
            checks.append("(SELECT count(*) FROM v) = $\(binds.count)")
        }
        if !nonces.isEmpty {
            binds.append(Int64(nonces.map(\.now).min() ?? 0))
            let now = "$\(binds.count)"
            let values = nonceValues(into: &binds)
            steps.append("n AS (\(Self.insertNonces) VALUES \(values) \(Self.keepLiveNonces(now: now)) RETURNING 1)")
            binds.append(Int64(nonces.count))
            checks.append("(SELECT count(*) FROM n) = $\(binds.count)")
        }
        if !grants.isEmpty {
            let values = grantValues(into: &binds)
            steps.append("g AS (\(Self.insertGrants) VALUES \(values) ON CONFLICT DO NOTHING RETURNING 1)")
            binds.append(Int64(grants.count))
            checks.append("(SELECT count(*) FROM g) = $\(binds.count)")
        }
        var unchanged = "true"
        if let registerVersion {
            binds.append(Int64(registerVersion))
            unchanged = "(SELECT version FROM register_version WHERE id = 1) = $\(binds.count)"
        }
        guard !steps.isEmpty || registerVersion != nil else { return .committed }
        let with = steps.isEmpty ? "" : "WITH \(steps.joined(separator: ", ")) "
        let whole = checks.isEmpty ? "true" : checks.joined(separator: " AND ")
        do {
            try run(PostgresQuery(unsafeSQL: "\(with)SELECT yongjun_group_whole(\(whole), \(unchanged))", binds: binds))
            return .committed
        } catch let error as PSQLError {
            switch error.serverInfo?[.sqlState] {
            case PostgresStore.groupNotWholeState?: return .rowTaken
            case PostgresStore.registerChangedState?: return .registerChanged
            default: throw error
            }
        }
    }

    /// Inserts what the group recorded, inside its transaction; nil when every optimistic answer held, else what the
    /// next pass must know.
    func flush() throws -> GroupHints? {
        var next = hints
        var conflict = false
        for chunk in records.chunked(Self.rowsPerStatement) {
            var binds = PostgresBindings(capacity: chunk.count * 15)
            let values = Self.recordValues(chunk, into: &binds)
            let inserted = try run(
                PostgresQuery(unsafeSQL: "\(Self.insertRecords) VALUES \(values) \(Self.keepOwnRecords) RETURNING id", binds: binds)
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
            var binds = PostgresBindings(capacity: nonces.count * 4 + 1)
            binds.append(Int64(nonces.map(\.now).min() ?? 0))
            let values = nonceValues(into: &binds)
            let inserted = try run(
                PostgresQuery(
                    unsafeSQL: """
                        \(Self.insertNonces) VALUES \(values) \(Self.keepLiveNonces(now: "$1"))
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

    /// `($n, …), (…)` for `entries`, their 15 values appended to `binds`.
    static func recordValues(_ entries: ArraySlice<VerificationEntry>, into binds: inout PostgresBindings) -> String {
        rows(entries, into: &binds) { entry, binds in
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
    }

    func nonceValues(into binds: inout PostgresBindings) -> String {
        Self.rows(nonces, into: &binds) { claim, binds in
            binds.append(claim.merchantID)
            binds.append(claim.nonce)
            binds.append(claim.verificationID)
            binds.append(Int64(claim.keepUntil))
        }
    }

    func grantValues(into binds: inout PostgresBindings) -> String {
        Self.rows(grants, into: &binds) { grant, binds in
            binds.append(grant.key.merchantID)
            binds.append(grant.key.cardID)
            binds.append(grant.key.day)
            binds.append(Int64(grant.key.rule))
            binds.append(grant.verificationID)
        }
    }

    /// `($n, …), (…)`: one row of placeholders per element, for the values `bind` appends.
    static func rows<Rows: Collection>(
        _ elements: Rows,
        into binds: inout PostgresBindings,
        bind: (Rows.Element, inout PostgresBindings) -> Void
    ) -> String {
        var rows: [String] = []
        rows.reserveCapacity(elements.count)
        for element in elements {
            let first = binds.count + 1
            bind(element, &binds)
            rows.append("(" + (first...binds.count).map { "$\($0)" }.joined(separator: ", ") + ")")
        }
        return rows.joined(separator: ", ")
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
