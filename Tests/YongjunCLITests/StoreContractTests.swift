import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing
import YongjunCore
import YongjunPostgres

@testable import YongjunStorage

/// The promises the service relies on, asked of both stores through the same protocols (`Store`, `AdminStore`,
/// `VerificationTransaction`): the embedded SQLite file and a real PostgreSQL. Where two instances matter, two
/// store objects on the same data stand for two processes (two GRDB pools on one file; two client pools on one
/// database), each with its own cache.
@Suite("The store contract, on SQLite and on PostgreSQL", .timeLimit(.minutes(5)))
struct StoreContractTests {
    enum Kind: String, CaseIterable, Sendable {
        case sqlite
        case postgres
    }

    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    @Test("a valid use is taken once per shop, whichever instance records it; another shop may use the same code", arguments: Kind.allCases)
    func singleUse(kind: Kind) async throws {
        try await withStores(kind) { one, two, _ in
            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            let other = try await one.addMerchant(name: "乙店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            let first = try await record(on: one, Self.entry("v1", shop: shop.id!, useKey: "jti-1"))
            let again = try await record(on: two, Self.entry("v2", shop: shop.id!, useKey: "jti-1"))
            let elsewhere = try await record(on: two, Self.entry("v3", shop: other.id!, useKey: "jti-1"))
            #expect(first && !again && elsewhere)
        }
    }

    @Test("a nonce is claimed once: while kept, a retry on any instance gets the first answer", arguments: Kind.allCases)
    func nonces(kind: Kind) async throws {
        try await withStores(kind) { one, two, _ in
            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            let id = shop.id!
            let claimed = try await inTransaction(one) { transaction in
                let previous = try transaction.claimNonce(merchantID: id, nonce: "till-1", verificationID: "v1", keepUntil: 2000, now: 1000)
                _ = try transaction.record(Self.entry("v1", shop: id, useKey: nil, response: #"{"valid":false,"first":true}"#))
                return previous
            }
            #expect(claimed == nil)
            let replay = try await inTransaction(two) { transaction in
                try transaction.claimNonce(merchantID: id, nonce: "till-1", verificationID: "v2", keepUntil: 2100, now: 1500)
            }
            #expect(replay == #"{"valid":false,"first":true}"#)
            let afterRetention = try await inTransaction(two) { transaction in
                try transaction.claimNonce(merchantID: id, nonce: "till-1", verificationID: "v3", keepUntil: 4000, now: 2500)
            }
            #expect(afterRetention == nil, "a nonce past its retention is claimed afresh")
        }
    }

    @Test("a 9-digit number is redeemed once, a rollback puts it back, and unknown numbers spend the shared budget", arguments: Kind.allCases)
    func shortCodes(kind: Kind) async throws {
        try await withStores(kind) { one, two, _ in
            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            let id = shop.id!
            let number = try await one.registerShortCode(token: "signed.code.a", expires: 5000, now: 1000)
            #expect(number.count == 9 && number.allSatisfy(\.isNumber))
            let budget = GuessBudget(perShop: 3, global: 100, window: 600)
            // Redeemed inside a group that then fails: the number is back afterwards.
            await #expect(throws: Rollback.self) {
                try await two.inVerificationTransaction { transaction in
                    #expect(try transaction.redeemShortCode(number, merchantID: id, now: 1001, budget: budget) == .token("signed.code.a"))
                    throw Rollback()
                }
            }
            #expect(try await redeem(two, number, shop: id, now: 1002, budget) == .token("signed.code.a"))
            #expect(try await redeem(one, number, shop: id, now: 1003, budget) == .miss, "used up, on every instance")
            #expect(try await redeem(two, "111111111", shop: id, now: 1004, budget) == .miss)
            #expect(try await redeem(one, "222222222", shop: id, now: 1005, budget) == .miss)
            let blocked = try await redeem(two, "333333333", shop: id, now: 1006, budget)
            #expect(blocked == .blocked(retryAfter: 1003 + 600 - 1006), "three misses (one per instance and the used number) fill the budget")
            #expect(try await redeem(one, "444444444", shop: id, now: 1003 + 601, budget) == .miss, "the oldest miss left the window")
        }
    }

    @Test("five wrong secrets lock a card number on every instance; the lock is read before any hash", arguments: Kind.allCases)
    func signInLock(kind: Kind) async throws {
        try await withStores(kind) { one, two, fixture in
            try await fixture.addCard("LZ7001", id: "card-7001")
            try await one.issueActivation(cardNo: "LZ7001", code: "ABCD-EFGH", now: Self.now, audit: nil)
            guard case .success(let secrets?) = try await two.holderSignInState(cardNo: "LZ7001", now: Self.now) else {
                Issue.record("an activated card has secrets to check")
                return
            }
            for attempt in 1...5 {
                let store = attempt.isMultiple(of: 2) ? two : one
                let result = try await store.finishHolderSignIn(cardNo: "LZ7001", now: Self.now, matched: false, checked: secrets, newPINHash: nil)
                if attempt < 5 {
                    #expect(result.failure == .wrongCredentials(attemptsLeft: 5 - attempt))
                } else {
                    #expect(result.failure == .locked(retryAfter: SignInLock.duration(level: 1)))
                }
            }
            #expect(try await one.holderSignInState(cardNo: "LZ7001", now: Self.now.addingTimeInterval(60)).failure != nil)
            try await two.unlockHolder(cardNo: "LZ7001", now: Self.now, audit: nil)
            let signedIn = try await one.finishHolderSignIn(cardNo: "LZ7001", now: Self.now, matched: true, checked: secrets, newPINHash: "pin-hash")
            #expect((try? signedIn.get())?.cardNo == "LZ7001")
            guard case .success(let after?) = try await two.holderSignInState(cardNo: "LZ7001", now: Self.now) else {
                Issue.record("secrets after activation")
                return
            }
            #expect(after.pinHash == "pin-hash" && after.activationHash == nil, "activation consumed, PIN set")
        }
    }

    @Test("holder sessions and cashier devices are shared: made on one instance, honoured and ended on the other", arguments: Kind.allCases)
    func sessionsAndDevices(kind: Kind) async throws {
        try await withStores(kind) { one, two, fixture in
            try await fixture.addCard("LZ7002", id: "card-7002")
            try await one.createHolderSession(cardID: "card-7002", token: "session-token", now: Self.now, lifetime: 600)
            #expect(try await two.holderSessionCard(token: "session-token", now: Self.now.addingTimeInterval(10))?.cardNo == "LZ7002")
            #expect(try await two.holderSessionCard(token: "session-token", now: Self.now.addingTimeInterval(601)) == nil, "expired")
            try await two.endHolderSession(token: "session-token")
            #expect(try await one.holderSessionCard(token: "session-token", now: Self.now) == nil)

            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            try await one.addShopDevice(merchantID: shop.id!, token: "device-token", label: "收银台1", now: Self.now)
            #expect(try await two.merchant(deviceToken: "device-token")?.id == shop.id)
            let hash = HolderSecret.digest("device-token")
            #expect(try await inTransaction(two) { try $0.merchantCredential(deviceTokenHash: hash)?.merchantID } == shop.id)
            let devices = try await two.shopDevices(merchantID: shop.id!)
            #expect(devices.map(\.label) == ["收银台1"])
            #expect(try await one.revokeShopDevice(merchantID: shop.id!, deviceID: devices[0].id, now: Self.now))
            #expect(try await inTransaction(two) { try $0.merchantCredential(deviceTokenHash: hash) } == nil, "the other instance's cache followed")
            #expect(try await two.merchant(deviceToken: "device-token") == nil)
        }
    }

    @Test("a revocation or suspension made through the admin path is seen by the next group of every instance", arguments: Kind.allCases)
    func registerChangesReachEveryInstance(kind: Kind) async throws {
        try await withStores(kind) { one, two, fixture in
            try await fixture.addCard("LZ7003", id: "card-7003")
            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: "九折", now: Self.now, audit: nil)
            var generator = SystemRandomNumberGenerator()
            let key = MerchantAPIKey.generate(using: &generator)
            try await one.replaceMerchantKey(merchantID: shop.id!, with: key, now: Self.now, audit: nil)
            // Both instances cache the card and the shop.
            for store in [one, two] {
                #expect(try await inTransaction(store) { try $0.cardStanding(id: "card-7003")?.revoked } == false)
                #expect(try await inTransaction(store) { try $0.merchantCredential(apiKeyID: key.keyID)?.status } == .active)
                #expect(try await inTransaction(store) { try $0.benefits(merchantID: shop.id!).rules.map(\.benefit) } == ["九折"])
            }
            try await one.revokeCard(number: "LZ7003", reason: "遗失", now: Self.now, audit: nil)
            // A group that reads the card from its cache and records a verification: its write finds the register
            // changed, writes nothing, and the group is decided again against the register as it now stands.
            let recorded = try await inTransaction(two) { transaction in
                let revoked = try transaction.cardStanding(id: "card-7003")?.revoked
                return try transaction.record(Self.entry("v-after-\(revoked == true)", shop: shop.id!, useKey: "k-7003")) ? revoked : nil
            }
            #expect(recorded == true)
            let stored = try await one.recentVerifications(now: Date(timeIntervalSince1970: 0), since: Date(timeIntervalSince1970: 0)).map(\.id)
            #expect(stored.contains("v-after-true") && !stored.contains("v-after-false"))
            try await one.changeMerchantStatus(id: shop.id!, to: .suspended, reason: "整改", now: Self.now, audit: nil)
            // A group that had to begin a transaction (here to prune) and read the shop from its cache: its commit
            // finds the register changed and the group is decided again.
            let status = try await inTransaction(two) { transaction -> Merchant.Status? in
                try transaction.pruneNonces(now: 0)
                return try transaction.merchantCredential(apiKeyID: key.keyID)?.status
            }
            #expect(status == .suspended)
            for store in [one, two] {
                #expect(try await inTransaction(store) { try $0.cardStanding(id: "card-7003")?.revoked } == true)
                #expect(try await inTransaction(store) { try $0.merchantCredential(apiKeyID: key.keyID)?.status } == .suspended)
            }
            let source = try await two.statusListSource(today: CalendarDate(year: 2026, month: 6, day: 1)!)
            #expect(source.entries.count == 1 && source.entries[0].value == .revoked)
            await #expect(throws: RegisterError.self) {
                try await two.revokeCard(number: "LZ7003", reason: "again", now: Self.now, audit: nil)
            }
            await #expect(throws: RegisterError.self) {
                try await two.changeMerchantStatus(id: shop.id!, to: .suspended, reason: "again", now: Self.now, audit: nil)
            }
        }
    }

    @Test("a once-a-day benefit is granted once per holder and day, across instances", arguments: Kind.allCases)
    func benefitGrants(kind: Kind) async throws {
        try await withStores(kind) { one, two, fixture in
            try await fixture.addCard("LZ7004", id: "card-7004")
            let shop = try await one.addMerchant(name: "甲店", industry: .catering, address: nil, benefit: nil, now: Self.now, audit: nil)
            let id = shop.id!
            _ = try await record(on: one, Self.entry("v1", shop: id, useKey: "k1"))
            _ = try await record(on: one, Self.entry("v2", shop: id, useKey: "k2"))
            let first = try await inTransaction(one) {
                try $0.grantBenefit(merchantID: id, cardID: "card-7004", rule: 0, day: "2026-06-01", verificationID: "v1")
            }
            let second = try await inTransaction(two) {
                try $0.grantBenefit(merchantID: id, cardID: "card-7004", rule: 0, day: "2026-06-01", verificationID: "v2")
            }
            let had = try await inTransaction(two) { try $0.hadBenefit(merchantID: id, cardID: "card-7004", rule: 0, day: "2026-06-01") }
            #expect(first && !second && had)
        }
    }

    @Test("admin writes are chained in the audit log in one order, whichever instance wrote them", arguments: Kind.allCases)
    func auditChain(kind: Kind) async throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let directory = DataDirectory(path: cli.dataDirectory)
        let audit = AuditContext(operatorName: "测试员", chain: try KeyStore(directory: directory).auditChain(), directory: directory)
        try await withStores(kind, directory: directory) { one, two, fixture in
            try await fixture.addCard("LZ7005", id: "card-7005")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    let store = index.isMultiple(of: 2) ? one : two
                    group.addTask {
                        _ = try await store.addMerchant(name: "店\(index)", industry: .other, address: nil, benefit: nil, now: Self.now, audit: audit)
                    }
                }
                try await group.waitForAll()
            }
            try await one.revokeCard(number: "LZ7005", reason: "遗失", now: Self.now, audit: audit)
            let entries = try await fixture.auditEntries()
            let chain = try KeyStore(directory: directory).auditChain()
            #expect(entries.filter { $0.action == "merchants.add" }.count == 8)
            var previous = ""
            for entry in entries {
                #expect(entry.previousHash == previous, "entry \(entry.seq) follows the one before it")
                #expect(
                    entry.hash
                        == chain.hash(
                            seq: entry.seq,
                            at: entry.at,
                            operatorName: entry.operatorName,
                            action: entry.action,
                            subject: entry.subject,
                            details: entry.details,
                            previousHash: entry.previousHash
                        )
                )
                previous = entry.hash
            }
            if case .sealed(let head) = audit.seal { #expect(head.lastHash == entries.last?.hash) } else { Issue.record("head sealed") }
        }
    }

    @Test(
        "cards import: the same file twice changes nothing, a changed row updates, a dry run writes nothing, a revocation survives",
        arguments: Kind.allCases
    )
    func importRules(kind: Kind) async throws {
        try await withStores(kind) { one, two, _ in
            let hasher = IDNumberHasher(keyBytes: Array(repeating: 1, count: 32))
            func rows(_ text: String) throws -> [CardImportRow] {
                let parsed = CardImport.parse("card_no,name,id_number,category,valid_until\n" + text)
                try #require(parsed.problems.isEmpty)
                return parsed.cards.map { CardImportRow($0, hasher: hasher) }
            }
            func load(
                _ store: any AdminStore,
                _ rows: [CardImportRow],
                dryRun: Bool = false,
                pacing: ImportPacing = .whole
            ) async throws
                -> CardImportSummary
            {
                var iterator = rows.makeIterator()
                return try await store.importCards(
                    count: rows.count,
                    next: { iterator.next() },
                    now: Self.now,
                    dryRun: dryRun,
                    audit: nil,
                    source: "t.csv",
                    pacing: { pacing }
                )
            }
            let id = CLI.idNumber("44188219650312123")
            let file = try rows("LZ1,张三,\(id),veteran,2030-12-31\nLZ2,李四,\(id),军属,2030-12-31\n")
            // A first import into the empty register (the bulk path on either store), then the same file on the other
            // instance, row by row.
            #expect(try await load(one, file) == CardImportSummary(inserted: 2, updated: 0, unchanged: 0))
            #expect(try await load(two, file, pacing: .shared) == CardImportSummary(inserted: 0, updated: 0, unchanged: 2))
            let stored = try #require(try await two.card(number: "LZ1"))
            #expect(stored.idNumberHash == hasher.hash(try ChineseIDNumber(id)) && !stored.idNumberHash.contains(id))
            let changed = try rows("LZ1,张三,\(id),veteran,2035-12-31\nLZ3,王五,\(id),烈属,2030-12-31\n")
            #expect(try await load(two, changed, dryRun: true) == CardImportSummary(inserted: 1, updated: 1, unchanged: 0))
            let notYet = try await one.card(number: "LZ3")
            let unchanged = try await one.card(number: "LZ1")
            #expect(notYet == nil && unchanged?.validUntil == "2030-12-31")
            try await one.revokeCard(number: "LZ1", reason: "遗失", now: Self.now, audit: nil)
            #expect(try await load(two, changed) == CardImportSummary(inserted: 1, updated: 1, unchanged: 0))
            let after = try #require(try await one.card(number: "LZ1"))
            #expect(after.validUntil == "2035-12-31" && after.isRevoked, "the imported fields change; the revocation stays")
            await #expect(throws: RegisterError.self) { try await two.revokeCard(number: "LZ1", reason: "again", now: Self.now, audit: nil) }
            await #expect(throws: RegisterError.self) { try await two.revokeCard(number: "LZ9", reason: "x", now: Self.now, audit: nil) }
        }
    }

    @Test("a first import that fails part way leaves the register empty and every index in place", arguments: Kind.allCases)
    func failedFirstImport(kind: Kind) async throws {
        try await withStores(kind) { one, _, _ in
            struct Refused: Error {}
            let hasher = IDNumberHasher(keyBytes: Array(repeating: 1, count: 32))
            let cards = CardImport.parse(
                "card_no,name,id_number,category,valid_until\n"
                    + (1...3000).map { "LZ\($0),张三,\(CLI.idNumber("44188219650312" + String(format: "%03d", $0 % 1000))),veteran,2030-12-31\n" }
                    .joined()
            ).cards
            var handed = 0
            await #expect(throws: Refused.self) {
                _ = try await one.importCards(
                    count: cards.count,
                    next: {
                        handed += 1
                        if handed == 2500 { throw Refused() }  // a bad line found late by the check running alongside
                        return CardImportRow(cards[handed - 1], hasher: hasher)
                    },
                    now: Self.now,
                    dryRun: false,
                    audit: nil,
                    source: "t.csv",
                    pacing: { .whole }
                )
            }
            #expect(try await one.card(number: "LZ1") == nil)
            var iterator = cards.prefix(10).map { CardImportRow($0, hasher: hasher) }.makeIterator()
            let summary = try await one.importCards(
                count: 10,
                next: { iterator.next() },
                now: Self.now,
                dryRun: false,
                audit: nil,
                source: "t.csv",
                pacing: { .whole }
            )
            #expect(summary == CardImportSummary(inserted: 10, updated: 0, unchanged: 0))
        }
    }

    // MARK: Fixture

    struct Rollback: Error {}

    /// Rows put straight into a store for a test (cards come from `cards import` in real life).
    struct Fixture: Sendable {
        let execute: @Sendable (String) async throws -> Void
        let auditEntries: @Sendable () async throws -> [AuditEntry]

        func addCard(_ cardNo: String, id: String) async throws {
            try await execute(
                """
                INSERT INTO cards (id, card_no, name, id_number_hash, category, valid_until, status, created_at, updated_at, status_idx)
                VALUES ('\(id)', '\(cardNo)', '张三', 'hash-\(id)', 'veteran', '2099-12-31', 'active', '2026-01-01T00:00:00.000Z',
                    '2026-01-01T00:00:00.000Z', \(Int.random(in: 0..<100_000)))
                """
            )
        }
    }

    /// Two store objects on one fresh store of `kind` (two instances), and a way to seed it.
    func withStores(
        _ kind: Kind,
        directory: DataDirectory? = nil,
        _ body: @Sendable (any AdminStore, any AdminStore, Fixture) async throws -> Void
    ) async throws {
        switch kind {
        case .sqlite:
            let folder = directory ?? DataDirectory(path: NSTemporaryDirectory() + "store-contract-\(UUID().uuidString)")
            defer { if directory == nil { try? FileManager.default.removeItem(atPath: folder.path) } }
            let one = try AppDatabase.open(in: folder)
            let two = try AppDatabase.open(in: folder)
            let fixture = Fixture(
                execute: { sql in try await one.dbWriter.write { try $0.execute(sql: sql) } },
                auditEntries: { try one.auditEntries() }
            )
            try await body(one, two, fixture)
        case .postgres:
            let server = try PostgresServer.running()
            let url = try PostgresURL(try await server.createDatabase())
            let logger = {
                var logger = Logger(label: "store-contract")
                logger.logLevel = .warning
                return logger
            }()
            try await PostgresClient.withRunning(url.configuration, logger: logger) { first in
                try await PostgresMigrator().migrate(first, logger: logger)
                try await PostgresClient.withRunning(url.configuration, logger: logger) { second in
                    let one = PostgresStore(client: first, logger: logger)
                    let two = PostgresStore(client: second, logger: logger)
                    let fixture = Fixture(
                        execute: { sql in try await first.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect() },
                        auditEntries: { try await one.auditEntries(limit: nil) }  // as SQLite's fixture: the store's own reader
                    )
                    try await body(one, two, fixture)
                }
            }
        }
    }

    static func entry(_ id: String, shop: Int64, useKey: String?, response: String = #"{"valid":true}"#) -> VerificationEntry {
        VerificationEntry(
            id: id,
            merchantID: shop,
            cardID: nil,
            codeID: nil,
            keyID: nil,
            valid: useKey != nil,
            reason: useKey == nil ? "malformed" : nil,
            nonce: nil,
            codeExpiresAt: 9_999_999_999,
            createdAt: "2026-06-01T08:00:00.000Z",
            response: response,
            useKey: useKey
        )
    }
}

/// One verification group on `store` running `body`; its result once committed.
func inTransaction<T: Sendable>(_ store: any Store, _ body: @escaping @Sendable (any VerificationTransaction) throws -> T) async throws -> T {
    let box = Mutex<T?>(nil)
    try await store.inVerificationTransaction { transaction in
        let value = try body(transaction)
        box.withLock { $0 = value }
    }
    return try #require(box.withLock { $0 })
}

func record(on store: any Store, _ entry: VerificationEntry) async throws -> Bool {
    try await inTransaction(store) { try $0.record(entry) }
}

func redeem(_ store: any Store, _ number: String, shop: Int64, now: Int, _ budget: GuessBudget) async throws -> ShortCodeRedemption {
    try await inTransaction(store) { try $0.redeemShortCode(number, merchantID: shop, now: now, budget: budget) }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
