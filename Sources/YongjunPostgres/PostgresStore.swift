import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YongjunCore
import YongjunStorage

/// The store on PostgreSQL: several Yongjun instances share one database through it, and every promise the service
/// makes across requests (single use, nonces, 9-digit numbers, guess budgets, sign-in locks, sessions) is kept by
/// its unique indexes and transactions, not by one process's memory.
///
/// Reads and writes of the routes are async through postgres-nio's pool; the verification log's group transaction
/// runs on one dedicated writer thread (see `PostgresVerificationTransaction`). `synchronous_commit` stays on, so a
/// group is answered only after PostgreSQL has flushed its commit.
public final class PostgresStore: Store, Sendable {
    public let client: PostgresClient
    let logger: Logger
    let cache = RegisterCache()
    /// The verification log's groups run here, one at a time, blocking on each statement (never on an event loop).
    private let writer = DispatchQueue(label: "yongjun.postgres.verifications")

    /// A store over `client`, whose pool the caller runs (`serve` lists it first in its service group, so it stops
    /// last; commands use `PostgresClient.withRunning`). The schema must be migrated (`PostgresMigrator`).
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The key for `pg_advisory_xact_lock` under which guess budgets are counted and spent.
    static let guessBudgetLock: Int64 = 0x594A_4755_4553_53  // "YJGUESS"

    public func ping() async throws {
        let logger = logger
        _ = try await withConnection(within: Self.leaseDeadline) { connection in
            try await connection.query("SELECT 1", logger: logger).collect().count
        }
    }

    // MARK: The verification log

    public func inVerificationTransaction(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        // Two instances' groups can wait on each other's rows (the same use key or nonce taken in opposite orders);
        // PostgreSQL then aborts one of them. Its decisions touched nothing outside the database yet, so run it again.
        var attempt = 1
        while true {
            do {
                return try await runGroup(decide)
            } catch let error as PSQLError where attempt < 3 && Self.mayRetry(error) {
                logger.notice("verification group retried", metadata: ["sqlState": "\(error.serverInfo?[.sqlState] ?? "")"])
                attempt += 1
            }
        }
    }

    /// Deadlock detected, or a serialization failure.
    static func mayRetry(_ error: PSQLError) -> Bool {
        ["40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    private func runGroup(_ decide: @escaping @Sendable (any VerificationTransaction) throws -> Void) async throws {
        let cache = cache
        let logger = logger
        try await withConnection(within: Self.leaseDeadline) { connection in
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                self.writer.async {
                    continuation.resume(with: Result { try Self.decideAndCommit(decide, connection: connection, cache: cache, logger: logger) })
                }
            }
        }
    }

    /// How long a request waits for a connection before it is answered "unavailable" (503, retry with the same
    /// nonce): the pool retries an unreachable server for ever, and a shop at the till cannot wait for ever.
    static let leaseDeadline: Duration = .seconds(3)

    /// `client.withConnection`, but giving up with `PostgresUnavailable` when no connection is leased within
    /// `deadline`. Once leased, `body` runs to its end however long it takes (a group may be committing).
    func withConnection<T: Sendable>(within deadline: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        let leased = LeaseMark()
        let client = client
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.mark()
                    return try await body(connection)
                }
            }
            group.addTask {
                do { try await Task.sleep(for: deadline) } catch { return nil }
                if !leased.done { throw PostgresUnavailable() }
                return nil
            }
            while let finished = try await group.next() {
                if let result = finished {
                    group.cancelAll()
                    return result
                }
            }
            throw PostgresUnavailable()
        }
    }

    /// One group on the writer thread: decide, send the buffered writes, commit; decided again (at most a few times)
    /// when another instance took a use key, nonce or daily benefit this group counted on.
    private static func decideAndCommit(
        _ decide: @Sendable (any VerificationTransaction) throws -> Void,
        connection: PostgresConnection,
        cache: RegisterCache,
        logger: Logger
    ) throws {
        var hints = GroupHints()
        for _ in 0..<4 {
            let transaction = PostgresVerificationTransaction(connection: connection, cache: cache, logger: logger, hints: hints)
            try transaction.run("BEGIN")
            do {
                try transaction.revalidateCache()
                try decide(transaction)
                if let next = try transaction.flush() {
                    try transaction.run("ROLLBACK")
                    hints = next
                    continue
                }
                try transaction.run("COMMIT")
                return
            } catch {
                _ = try? transaction.run("ROLLBACK")
                throw error
            }
        }
        throw VerificationGroupError.keptConflicting
    }

    public func abandonLockWaits() {
        // A group waits on PostgreSQL only for its own statements, which end with the connection; nothing to abandon.
    }

    public func recentVerifications(now: Date, since earliest: Date) async throws -> [VerificationEntry] {
        let lower = RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, earliest.timeIntervalSince1970 * 1000)))
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let rows = try await client.query(
            """
            SELECT id, merchant_id, card_id, code_id, key_id, valid, reason, nonce, code_expires_at, created_at, response, use_key,
                eligible, benefit, benefit_rule
            FROM verifications
            WHERE id >= \(lower) AND ((use_key IS NOT NULL AND code_expires_at > \(nowSeconds)) OR (nonce IS NOT NULL AND offline = 0))
            ORDER BY id
            """,
            logger: logger
        )
        var entries: [VerificationEntry] = []
        for try await row in rows {
            let (id, merchantID, cardID, codeID, keyID, valid, reason, nonce, expires, createdAt, response, useKey, eligible, benefit, rule) =
                try row.decode(
                    (
                        String, Int64, String?, String?, String?, Int64, String?, String?, Int64?, String, String, String?, Int64?, String?,
                        Int64?
                    ).self
                )
            entries.append(
                VerificationEntry(
                    id: id,
                    merchantID: merchantID,
                    cardID: cardID,
                    codeID: codeID,
                    keyID: keyID,
                    valid: valid != 0,
                    reason: reason,
                    nonce: nonce,
                    codeExpiresAt: expires.map(Int.init),
                    createdAt: createdAt,
                    response: response,
                    useKey: useKey,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit,
                    benefitRule: rule.map(Int.init)
                )
            )
        }
        return entries
    }

    public func registerShortCode(token: String, expires: Int, now: Int) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let number = HolderSecret.shortCode(using: &generator)
            let rows = try await client.query(
                "INSERT INTO short_codes (number, token, expires_at) VALUES (\(number), \(token), \(expires)) ON CONFLICT (number) DO NOTHING RETURNING number",
                logger: logger
            ).collect()
            if !rows.isEmpty { return number }
        }
    }

    // MARK: Histories

    public func shopHistory(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopHistoryEntry] {
        // The month in China time (UTC+8) from the ISO text, as the SQLite store's strftime does.
        let rows = try await client.query(
            """
            SELECT v.id, v.created_at, v.card_id, c.category, c.name, v.valid, v.reason, v.eligible, v.benefit, v.offline
            FROM verifications v LEFT JOIN cards c ON c.id = v.card_id
            WHERE v.merchant_id = \(merchantID)
                AND (\(before)::text IS NULL OR v.id < \(before))
                AND (\(month)::text IS NULL OR to_char((v.created_at::timestamptz AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM') = \(month))
            ORDER BY v.id DESC LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [ShopHistoryEntry] = []
        for try await row in rows {
            let (id, createdAt, cardID, category, name, valid, reason, eligible, benefit, offline) = try row.decode(
                (String, String, String?, String?, String?, Int64, String?, Int64?, String?, Int64).self
            )
            entries.append(
                ShopHistoryEntry(
                    id: id,
                    createdAt: createdAt,
                    cardID: cardID,
                    category: category.flatMap(CardCategory.init(rawValue:)),
                    maskedName: name.map(NameMask.mask),
                    valid: valid != 0,
                    reason: reason,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit,
                    offline: offline != 0
                )
            )
        }
        return entries
    }

    public func holderHistory(cardID: String, limit: Int) async throws -> [HolderHistoryEntry] {
        let rows = try await client.query(
            """
            WITH mark AS (SELECT coalesce((SELECT value FROM service_state WHERE name = 'card_history_upto'), '') AS upto)
            SELECT v.id, v.created_at, v.merchant_id, coalesce(m.name, '?'), v.valid, v.reason, v.eligible, v.benefit
            FROM card_history h JOIN verifications v ON v.id = h.verification_id LEFT JOIN merchants m ON m.id = v.merchant_id
            WHERE h.card_id = \(cardID)
            UNION ALL
            SELECT v.id, v.created_at, v.merchant_id, coalesce(m.name, '?'), v.valid, v.reason, v.eligible, v.benefit
            FROM verifications v LEFT JOIN merchants m ON m.id = v.merchant_id, mark
            WHERE v.id > mark.upto AND v.card_id = \(cardID)
            ORDER BY 2 DESC, 1 DESC LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [HolderHistoryEntry] = []
        for try await row in rows {
            let (id, createdAt, merchantID, shop, valid, reason, eligible, benefit) = try row.decode(
                (String, String, Int64, String, Int64, String?, Int64?, String?).self
            )
            entries.append(
                HolderHistoryEntry(
                    id: id,
                    createdAt: createdAt,
                    merchantID: merchantID,
                    shopName: shop,
                    valid: valid != 0,
                    reason: reason,
                    eligible: eligible.map { $0 != 0 },
                    benefit: benefit
                )
            )
        }
        return entries
    }

    public func indexCardHistory(settled: String, batch: Int) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            // One indexer at a time across instances; the others find nothing new.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.historyIndexLock))", logger: logger).collect()
            let upto =
                try await connection.query("SELECT value FROM service_state WHERE name = 'card_history_upto'", logger: logger)
                .collect().first?.decode(String.self) ?? ""
            let rows = try await connection.query(
                "SELECT id FROM verifications WHERE id > \(upto) AND id < \(settled) ORDER BY id LIMIT \(batch)",
                logger: logger
            ).collect()
            guard let lastRow = rows.last else { return 0 }
            let last = try lastRow.decode(String.self)
            try await connection.query(
                """
                INSERT INTO card_history (card_id, verification_id)
                SELECT card_id, id FROM verifications WHERE id > \(upto) AND id <= \(last) AND card_id IS NOT NULL
                ORDER BY card_id, id ON CONFLICT DO NOTHING
                """,
                logger: logger
            ).collect()
            try await connection.query(
                """
                INSERT INTO service_state (name, value) VALUES ('card_history_upto', \(last))
                ON CONFLICT (name) DO UPDATE SET value = excluded.value
                """,
                logger: logger
            ).collect()
            return rows.count
        }
    }

    static let historyIndexLock: Int64 = 0x594A_4849_5354  // "YJHIST"

    // MARK: Holders

    public func holderSignInState(cardNo: String, now: Date) async throws -> Result<StoredHolderSecrets?, HolderAccessError> {
        let lockedUntil =
            try await client.query("SELECT locked_until FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger)
            .collect().first?.decode(String?.self) ?? nil
        if let lock = SignInGuard.lock(lockedUntil: lockedUntil, now: now) { return .failure(lock) }
        let secrets = try await client.query(
            """
            SELECT activation_hash, pin_hash FROM holder_accounts JOIN cards ON cards.id = holder_accounts.card_id
            WHERE cards.card_no = \(cardNo)
            """,
            logger: logger
        ).collect().first.map { row in
            let (activation, pin) = try row.decode((String?, String?).self)
            return StoredHolderSecrets(activationHash: activation, pinHash: pin)
        }
        return .success(secrets)
    }

    public func finishHolderSignIn(
        cardNo: String,
        now: Date,
        matched: Bool,
        checked: StoredHolderSecrets?,
        newPINHash: String?
    ) async throws -> Result<Card, HolderAccessError> {
        try await client.withTransaction(logger: logger) { connection in
            // The card number's guard row is the lock two instances signing in the same card at once must share.
            try await connection.query(
                "INSERT INTO sign_in_guards (card_no, failures, lock_level) VALUES (\(cardNo), 0, 0) ON CONFLICT (card_no) DO NOTHING",
                logger: logger
            ).collect()
            let guardRow = try await connection.query(
                "SELECT failures, lock_level, locked_until FROM sign_in_guards WHERE card_no = \(cardNo) FOR UPDATE",
                logger: logger
            ).collect().first
            var (failures, level, lockedUntil): (Int64, Int64, String?) = (0, 0, nil)
            if let guardRow { (failures, level, lockedUntil) = try guardRow.decode((Int64, Int64, String?).self) }
            if let lock = SignInGuard.lock(lockedUntil: lockedUntil, now: now) { return .failure(lock) }
            let card = try await Self.card(where: "card_no", equals: cardNo, connection: connection, logger: logger)
            var current: StoredHolderSecrets?
            if let card {
                current = try await connection.query(
                    "SELECT activation_hash, pin_hash FROM holder_accounts WHERE card_id = \(card.id)",
                    logger: logger
                ).collect().first.map { row in
                    let (activation, pin) = try row.decode((String?, String?).self)
                    return StoredHolderSecrets(activationHash: activation, pinHash: pin)
                }
            }
            guard matched, let card, let checked, current == checked else {
                let next = SignInGuard.failure(failures: Int(failures), level: Int(level), now: now)
                try await connection.query(
                    """
                    UPDATE sign_in_guards SET failures = \(next.failures), lock_level = \(next.level), locked_until = \(next.lockedUntil)
                    WHERE card_no = \(cardNo)
                    """,
                    logger: logger
                ).collect()
                return .failure(next.outcome)
            }
            if card.isRevoked { return .failure(.cardNotUsable("证件已注销")) }
            try await connection.query("DELETE FROM sign_in_guards WHERE card_no = \(cardNo)", logger: logger).collect()
            if let newPINHash {
                try await connection.query(
                    "UPDATE holder_accounts SET pin_hash = \(newPINHash), activation_hash = NULL, activated_at = \(Timestamp.iso(now)) WHERE card_id = \(card.id)",
                    logger: logger
                ).collect()
            }
            return .success(card)
        }
    }

    public func createHolderSession(cardID: String, token: String, now: Date, lifetime: TimeInterval) async throws {
        let stamp = Timestamp.iso(now)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("DELETE FROM holder_sessions WHERE expires_at < \(stamp)", logger: logger).collect()
            try await connection.query(
                """
                INSERT INTO holder_sessions (token_hash, card_id, created_at, expires_at)
                VALUES (\(HolderSecret.digest(token)), \(cardID), \(stamp), \(Timestamp.iso(now.addingTimeInterval(lifetime))))
                """,
                logger: logger
            ).collect()
        }
    }

    public func holderSessionCard(token: String, now: Date) async throws -> Card? {
        try await client.query(
            """
            SELECT row_to_json(cards)::text FROM holder_sessions JOIN cards ON cards.id = holder_sessions.card_id
            WHERE token_hash = \(HolderSecret.digest(token)) AND expires_at > \(Timestamp.iso(now))
            """,
            logger: logger
        ).collect().first.map { try Self.decodeRecord(Card.self, $0) }
    }

    public func endHolderSession(token: String) async throws {
        try await client.query("DELETE FROM holder_sessions WHERE token_hash = \(HolderSecret.digest(token))", logger: logger).collect()
    }

    // MARK: Shops

    public func merchant(presenting key: MerchantAPIKey) async throws -> Merchant? {
        let merchant = try await client.query("SELECT row_to_json(merchants)::text FROM merchants WHERE api_key_id = \(key.keyID)", logger: logger)
            .collect().first.map { try Self.decodeRecord(Merchant.self, $0) }
        guard let merchant, let hash = merchant.apiKeyHash, key.matches(storedHash: hash) else { return nil }
        return merchant
    }

    public func merchant(deviceToken token: String) async throws -> Merchant? {
        try await client.query(
            """
            SELECT row_to_json(merchants)::text FROM shop_devices JOIN merchants ON merchants.id = shop_devices.merchant_id
            WHERE shop_devices.token_hash = \(HolderSecret.digest(token)) AND shop_devices.revoked_at IS NULL
            """,
            logger: logger
        ).collect().first.map { try Self.decodeRecord(Merchant.self, $0) }
    }

    public func merchant(id: Int64) async throws -> Merchant? {
        try await client.query("SELECT row_to_json(merchants)::text FROM merchants WHERE id = \(id)", logger: logger)
            .collect().first.map { try Self.decodeRecord(Merchant.self, $0) }
    }

    public func merchants(status: Merchant.Status?, industry: Industry?) async throws -> [Merchant] {
        try await client.query(
            """
            SELECT row_to_json(merchants)::text FROM merchants
            WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue)) AND (\(industry?.rawValue)::text IS NULL OR industry = \(industry?.rawValue))
            ORDER BY id
            """,
            logger: logger
        ).collect().map { try Self.decodeRecord(Merchant.self, $0) }
    }

    public func addShopDevice(merchantID: Int64, token: String, label: String, now: Date) async throws {
        let stamp = Timestamp.iso(now)
        try await client.query(
            """
            INSERT INTO shop_devices (merchant_id, token_hash, label, created_at, last_seen_at)
            VALUES (\(merchantID), \(HolderSecret.digest(token)), \(String(label.prefix(120))), \(stamp), \(stamp))
            """,
            logger: logger
        ).collect()
    }

    public func shopDevices(merchantID: Int64) async throws -> [ShopDevice] {
        try await client.query(
            "SELECT id, label, created_at, last_seen_at, revoked_at FROM shop_devices WHERE merchant_id = \(merchantID) ORDER BY id DESC",
            logger: logger
        ).collect().map { row in
            let (id, label, created, seen, revoked) = try row.decode((Int64, String, String, String?, String?).self)
            return ShopDevice(id: id, label: label, createdAt: created, lastSeenAt: seen, revokedAt: revoked)
        }
    }

    public func revokeShopDevice(merchantID: Int64, deviceID: Int64, now: Date) async throws -> Bool {
        let rows = try await client.query(
            """
            UPDATE shop_devices SET revoked_at = \(Timestamp.iso(now))
            WHERE id = \(deviceID) AND merchant_id = \(merchantID) AND revoked_at IS NULL RETURNING id
            """,
            logger: logger
        ).collect()
        return rows.count == 1
    }

    public func snapshotBenefitRules(merchantID: Int64) async throws -> [BenefitRule] {
        try await client.query(Self.benefitRulesQuery(merchantID: merchantID), logger: logger).collect().map(Self.benefitRule)
    }

    public func allBenefitRules() async throws -> [Int64: [BenefitRule]] {
        let rows = try await client.query(
            "SELECT merchant_id, categories, benefit, once_per_day, weekdays, valid_from, valid_until FROM benefit_rules ORDER BY merchant_id, position",
            logger: logger
        ).collect()
        var rules: [Int64: [BenefitRule]] = [:]
        for row in rows {
            let (merchantID, categories, benefit, daily, weekdays, from, until) = try row.decode(
                (Int64, String?, String, Int64, String?, String?, String?).self
            )
            rules[merchantID, default: []].append(
                Self.benefitRule(categories: categories, benefit: benefit, daily: daily, weekdays: weekdays, from: from, until: until)
            )
        }
        return rules
    }

    static func benefitRulesQuery(merchantID: Int64) -> PostgresQuery {
        """
        SELECT categories, benefit, once_per_day, weekdays, valid_from, valid_until FROM benefit_rules
        WHERE merchant_id = \(merchantID) ORDER BY position
        """
    }

    @Sendable static func benefitRule(_ row: PostgresRow) throws -> BenefitRule {
        let (categories, benefit, daily, weekdays, from, until) = try row.decode((String?, String, Int64, String?, String?, String?).self)
        return benefitRule(categories: categories, benefit: benefit, daily: daily, weekdays: weekdays, from: from, until: until)
    }

    static func benefitRule(categories: String?, benefit: String, daily: Int64, weekdays: String?, from: String?, until: String?) -> BenefitRule {
        BenefitRule(
            categories: categories.map { $0.split(separator: ",").compactMap { CardCategory(rawValue: String($0)) } },
            benefit: benefit,
            oncePerDay: daily != 0,
            weekdays: weekdays.map { $0.split(separator: ",").compactMap { Int($0) } },
            validFrom: from.flatMap(CalendarDate.init(iso:)),
            validUntil: until.flatMap(CalendarDate.init(iso:))
        )
    }

    // MARK: Applications from the public page

    public func openBatchNumber() async throws -> Int64? {
        try await client.query("SELECT number FROM batches WHERE status = 'open' ORDER BY number DESC LIMIT 1", logger: logger)
            .collect().first?.decode(Int64.self)
    }

    /// The public form's one application, by the rules of `AppDatabase.importApplications`: a credit code still under
    /// review in another batch, or a current partner shop's, is refused; a second one in this batch is taken (the bureau
    /// decides which is real).
    public func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String {
        let code = application.creditCode.value
        let logger = logger
        return try await client.inTransaction(logger: logger) { connection in
            // Applications of one credit code are filed one at a time, so two instances cannot both pass the check.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.applicationLock), hashtext(\(code)))", logger: logger)
            let open = try await connection.query("SELECT status FROM batches WHERE number = \(number) FOR SHARE", logger: logger)
                .collect().first?.decode(String.self)
            guard open == "open" else { throw RegisterError("batch \(number) is closed; open a new batch with `yongjun batches open`") }
            var problems: [ImportProblem] = []
            let latest = try await connection.query(
                "SELECT batch_number, stage, id FROM applications WHERE credit_code = \(code) ORDER BY id DESC LIMIT 1",
                logger: logger
            ).collect().first
            if let latest {
                let (batch, stage, id) = try latest.decode((Int64, String, Int64).self)
                if batch != number, ReviewStage(rawValue: stage)?.isUnderReview ?? false {
                    problems.append(
                        ImportProblem(
                            line: application.line,
                            reason: "credit_code \(code) is still under review in batch \(batch) (application \(id))"
                        )
                    )
                }
            }
            let partner = try await connection.query(
                "SELECT id, name FROM merchants WHERE credit_code = \(code) AND status != 'revoked' LIMIT 1",
                logger: logger
            ).collect().first
            if let partner {
                let (id, name) = try partner.decode((Int64, String).self)
                problems.append(ImportProblem(line: application.line, reason: "credit_code \(code) is already partner shop \(id) (\(name))"))
            }
            guard problems.isEmpty else { throw ImportConflicts(problems: problems) }
            let stamp = Timestamp.iso(now)
            let id =
                try await connection.query(
                    """
                    INSERT INTO applications (batch_number, shop_name, credit_code, industry, address, contact, phone, benefit, stage, created_at, updated_at)
                    VALUES (\(number), \(application.shopName), \(code), \(application.industry.rawValue), \(application.address), \(application.contact),
                        \(application.phone), \(application.benefit), 'materials', \(stamp), \(stamp))
                    RETURNING id
                    """,
                    logger: logger
                ).collect().first?.decode(Int64.self) ?? 0
            try await connection.query(
                """
                INSERT INTO application_events (application_id, from_stage, to_stage, note, operator, at)
                VALUES (\(id), NULL, 'materials', '导入：网上申请', 'system', \(stamp))
                """,
                logger: logger
            )
            return "YJ-\(number)-\(id)"
        }
    }

    static let applicationLock: Int32 = 0x594A_4150  // "YJAP"

    // MARK: The status list

    public func statusListSource(today: CalendarDate) async throws -> StatusListSource {
        guard let totals = try await client.query("SELECT count(*), coalesce(max(status_idx), -1) FROM cards", logger: logger).collect().first
        else { return StatusListSource(entries: [], count: StatusIndexAllocator.capacity(cards: 0)) }
        let (cards, highest) = try totals.decode((Int64, Int64).self)
        var count = StatusIndexAllocator.capacity(cards: Int(cards))
        while count <= highest { count *= 2 }
        let rows = try await client.query(
            """
            SELECT status_idx, status FROM cards
            WHERE status_idx IS NOT NULL AND (status = 'revoked' OR valid_until < \(today.description))
            """,
            logger: logger
        )
        var entries: [(index: Int, value: StatusList.Value)] = []
        for try await row in rows {
            let (index, status) = try row.decode((Int64, String).self)
            entries.append((Int(index), status == "revoked" ? .revoked : .expired))
        }
        return StatusListSource(entries: entries, count: count)
    }

    public func setServiceState(_ name: String, _ value: String) async throws {
        try await client.query(
            "INSERT INTO service_state (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            logger: logger
        ).collect()
    }

    public func auditedSigningKeyIDs() async throws -> Set<String> {
        Set(
            try await client.query("SELECT subject FROM audit_log WHERE action IN ('keys.init', 'keys.rotate')", logger: logger)
                .collect().map { try $0.decode(String.self) }
        )
    }

    // MARK: Rows as records

    /// A whole row as `row_to_json(...)::text`, decoded by the record's own Codable conformance (snake_case columns).
    static func decodeRecord<Record: Decodable>(_ type: Record.Type, _ row: PostgresRow) throws -> Record {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Record.self, from: Data(try row.decode(String.self).utf8))
    }

    static func card(where column: String, equals value: String, connection: PostgresConnection, logger: Logger) async throws -> Card? {
        precondition(column == "card_no" || column == "id")
        let query: PostgresQuery =
            column == "id"
            ? "SELECT row_to_json(cards)::text FROM cards WHERE id = \(value)"
            : "SELECT row_to_json(cards)::text FROM cards WHERE card_no = \(value)"
        return try await connection.query(query, logger: logger).collect().first.map { try decodeRecord(Card.self, $0) }
    }
}

/// No connection to PostgreSQL could be had in time: the request is answered as unavailable, nothing was recorded.
public struct PostgresUnavailable: Error, CustomStringConvertible {
    public var description: String { "no PostgreSQL connection within \(PostgresStore.leaseDeadline)" }
}

/// Set once a connection was leased.
final class LeaseMark: Sendable {
    private let state = Mutex(false)
    var done: Bool { state.withLock { $0 } }
    func mark() { state.withLock { $0 = true } }
}
