import Foundation
import Logging
import PostgresNIO
import YongjunCore
import YongjunStorage

extension PostgresStore {
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
}
