import Foundation
import GRDB
import YongjunCore

/// A shop's rules, and the free text that stands in when it has none.
public struct ShopBenefits: Sendable, Equatable {
    public var rules: [BenefitRule]
    public var fallback: String?

    package init(rules: [BenefitRule], fallback: String?) {
        self.rules = rules
        self.fallback = fallback
    }
}

extension BenefitRule {
    static func fetchAll(_ db: Database, merchantID: Int64) throws -> [BenefitRule] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT categories, benefit, once_per_day, weekdays, valid_from, valid_until FROM benefit_rules
                    WHERE merchant_id = ? ORDER BY position
                    """
            ),
            arguments: [merchantID]
        ).map { row in
            let categories: String? = row[0]
            let weekdays: String? = row[3]
            let from: String? = row[4]
            let until: String? = row[5]
            return BenefitRule(
                categories: categories.map { $0.split(separator: ",").compactMap { CardCategory(rawValue: String($0)) } },
                benefit: row[1],
                oncePerDay: row[2],
                weekdays: weekdays.map { $0.split(separator: ",").compactMap { Int($0) } },
                validFrom: from.flatMap(CalendarDate.init(iso:)),
                validUntil: until.flatMap(CalendarDate.init(iso:))
            )
        }
    }

    static func shopBenefits(_ db: Database, merchantID: Int64) throws -> ShopBenefits {
        let fallback = try String.fetchOne(db.cachedStatement(sql: "SELECT benefit FROM merchants WHERE id = ?"), arguments: [merchantID])
        return ShopBenefits(rules: try fetchAll(db, merchantID: merchantID), fallback: fallback)
    }

    /// A new shop's starting rule (`BenefitRule.starting`), if its 优惠内容 gives one.
    static func startingRules(_ db: Database, _ merchant: Merchant) throws {
        guard let id = merchant.id, let rule = BenefitRule.starting(benefit: merchant.benefit) else { return }
        try replaceAll(db, merchantID: id, with: [rule])
    }

    static func replaceAll(_ db: Database, merchantID: Int64, with rules: [BenefitRule]) throws {
        try db.execute(sql: "DELETE FROM benefit_rules WHERE merchant_id = ?", arguments: [merchantID])
        for (position, rule) in rules.enumerated() {
            try db.execute(
                sql: """
                    INSERT INTO benefit_rules (merchant_id, position, categories, benefit, once_per_day, weekdays, valid_from, valid_until)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    merchantID, position, rule.categories?.map(\.rawValue).joined(separator: ","), rule.benefit, rule.oncePerDay,
                    rule.weekdays?.map(String.init).joined(separator: ","), rule.validFrom?.description, rule.validUntil?.description,
                ]
            )
        }
    }
}

extension AppDatabase {
    /// A shop's rules, in the order they are tried.
    public func benefitRules(merchantID: Int64) throws -> [BenefitRule] {
        try dbWriter.read { db in
            guard try Merchant.fetchOne(db, key: merchantID) != nil else { throw RegisterError.merchantNotFound(merchantID) }
            return try BenefitRule.fetchAll(db, merchantID: merchantID)
        }
    }

    /// One shop's rules, for its snapshot.
    public func snapshotBenefitRules(merchantID: Int64) async throws -> [BenefitRule] {
        try await dbWriter.read { db in try BenefitRule.fetchAll(db, merchantID: merchantID) }
    }

    /// Every shop's rules at once (the directory).
    public func allBenefitRules() async throws -> [Int64: [BenefitRule]] {
        try await dbWriter.read { db in
            var all: [Int64: [BenefitRule]] = [:]
            for id in try Int64.fetchAll(db, sql: "SELECT DISTINCT merchant_id FROM benefit_rules") {
                all[id] = try BenefitRule.fetchAll(db, merchantID: id)
            }
            return all
        }
    }

    /// Replaces a shop's rules (audited); the verification path sees them at its next group.
    public func setBenefitRules(merchantID: Int64, rules: [BenefitRule], now: Date, audit: AuditContext? = nil) throws {
        let details = ["rules": "\(rules.count)", "benefits": rules.map(\.benefit).joined(separator: " | ")]
        try write(audit: audit, now: now, AuditNote(action: "merchants.benefits", subject: "merchant \(merchantID)", details: details)) { db, _ in
            guard try Merchant.fetchOne(db, key: merchantID) != nil else { throw RegisterError.merchantNotFound(merchantID) }
            try BenefitRule.replaceAll(db, merchantID: merchantID, with: rules)
        }
        registerCache.invalidate()
    }
}

extension SQLiteVerificationTransaction {
    /// The shop's rules, cached until the register changes.
    public func benefits(merchantID: Int64) throws -> ShopBenefits {
        if let cached = cache.benefits(merchantID) { return cached }
        let benefits = try BenefitRule.shopBenefits(db, merchantID: merchantID)
        cache.store(benefits, for: merchantID)
        return benefits
    }

    /// Whether this holder already had once-a-day rule `rule`'s benefit at this shop on China calendar day `day`.
    public func hadBenefit(merchantID: Int64, cardID: String, rule: Int, day: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM benefit_grants WHERE merchant_id = ? AND card_id = ? AND day = ? AND rule = ?"),
            arguments: [merchantID, cardID, day, rule]
        ) ?? false
    }

    /// Records that once-a-day rule `rule` was given; false when it already was today (the caller then refuses).
    public func grantBenefit(merchantID: Int64, cardID: String, rule: Int, day: String, verificationID: String) throws -> Bool {
        try db.cachedStatement(
            sql: "INSERT INTO benefit_grants (merchant_id, card_id, day, rule, verification_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        ).execute(arguments: [merchantID, cardID, day, rule, verificationID])
        return db.changesCount == 1
    }
}
