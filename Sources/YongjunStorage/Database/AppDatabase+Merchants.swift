import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Registers an active merchant directly (the application workflow comes through batches).
    public func addMerchant(
        name: String,
        industry: Industry,
        address: String?,
        benefit: String?,
        now: Date,
        audit: AuditContext? = nil
    ) throws -> Merchant {
        try write(audit: audit, now: now, AuditNote(action: "merchants.add", details: ["name": name, "industry": industry.rawValue])) { db, note in
            var merchant = Merchant(
                id: nil,
                name: name,
                industry: industry,
                address: address,
                benefit: benefit,
                status: .active,
                apiKeyId: nil,
                apiKeyHash: nil,
                apiKeyIssuedAt: nil,
                createdAt: Timestamp.iso(now)
            )
            try merchant.insert(db)
            try BenefitRule.startingRules(db, merchant)
            note.subject = "merchant \(merchant.id ?? 0)"
            return merchant
        }
    }

    /// Stores the hash of a new API key for a merchant; the previous key stops working at once.
    public func replaceMerchantKey(merchantID: Int64, with key: MerchantAPIKey, now: Date, audit: AuditContext? = nil) throws {
        let note = AuditNote(action: "merchants.key", subject: "merchant \(merchantID)", details: ["keyId": key.keyID])
        try write(audit: audit, now: now, note) { db, _ in
            guard var merchant = try Merchant.fetchOne(db, key: merchantID) else { throw RegisterError.merchantNotFound(merchantID) }
            guard merchant.status != .revoked else {
                throw RegisterError("merchant \(merchantID) is revoked; a revoked merchant cannot get a key")
            }
            merchant.apiKeyId = key.keyID
            merchant.apiKeyHash = key.secretHash
            merchant.apiKeyIssuedAt = Timestamp.iso(now)
            try merchant.update(db)
            // Cashier devices signed in with the old key stop with it.
            try db.execute(
                sql: "UPDATE shop_devices SET revoked_at = ? WHERE merchant_id = ? AND revoked_at IS NULL",
                arguments: [Timestamp.iso(now), merchantID]
            )
        }
    }

    public func merchant(id: Int64) throws -> Merchant? {
        try dbWriter.read { db in try Merchant.fetchOne(db, key: id) }
    }
}

extension AppDatabase {
    /// The merchant id behind an API key id (used to undo a decision whose commit failed).
    public func merchantID(apiKeyID: String) async throws -> Int64? {
        try await dbWriter.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM merchants WHERE api_key_id = ?", arguments: [apiKeyID])
        }
    }

    /// Suspends, reinstates or revokes a shop; its verifications are refused (or accepted again) from the next request on.
    public func changeMerchantStatus(
        id: Int64,
        to status: Merchant.Status,
        reason: String?,
        now: Date,
        audit: AuditContext? = nil
    ) throws -> Merchant {
        let note = Merchant.statusChangeNote(id: id, to: status, reason: reason)
        return try write(audit: audit, now: now, note) { db, _ in
            guard var merchant = try Merchant.fetchOne(db, key: id) else { throw RegisterError.merchantNotFound(id) }
            try merchant.checkStatusChange(to: status)
            merchant.status = status
            merchant.statusReason = reason
            merchant.statusChangedAt = Timestamp.iso(now)
            try merchant.update(db)
            return merchant
        }
    }

    /// Shops, optionally only those with `status` or in `industry`, by id.
    public func merchants(status: Merchant.Status? = nil, industry: Industry? = nil) throws -> [Merchant] {
        try dbWriter.read { db in try Self.merchantsRequest(status: status, industry: industry).fetchAll(db) }
    }

    static func merchantsRequest(status: Merchant.Status?, industry: Industry?) -> QueryInterfaceRequest<Merchant> {
        var request = Merchant.order(Column("id"))
        if let status { request = request.filter(Column("status") == status.rawValue) }
        if let industry { request = request.filter(Column("industry") == industry.rawValue) }
        return request
    }
}

extension AppDatabase {
    /// The shop a presented API key belongs to, if the key is its current one (constant-time hash comparison).
    public func merchant(presenting key: MerchantAPIKey) async throws -> Merchant? {
        let merchant = try await dbWriter.read { db in try Merchant.filter(Merchant.Columns.apiKeyId == key.keyID).fetchOne(db) }
        guard let merchant, let hash = merchant.apiKeyHash, key.matches(storedHash: hash) else { return nil }
        return merchant
    }

    /// The batch that currently takes applications, if any.
    public func openBatch() throws -> Batch? {
        try dbWriter.read { db in try Batch.filter(Column("status") == "open").order(Column("number").desc).fetchOne(db) }
    }
}

extension Merchant {
    /// The one rule for a shop's status changes, whichever store records them.
    package func checkStatusChange(to status: Status) throws {
        switch (self.status, status) {
        case (.active, .suspended), (.suspended, .active), (.active, .revoked), (.suspended, .revoked): return
        case (.revoked, _):
            throw RegisterError("merchant \(id ?? 0) (\(name)) is revoked for good; a revoked shop must apply again in a new batch")
        default:
            throw RegisterError("merchant \(id ?? 0) (\(name)) is already \(self.status.rawValue)")
        }
    }

    /// What the audit log says of a status change.
    package static func statusChangeNote(id: Int64, to status: Status, reason: String?) -> AuditNote {
        let action =
            switch status {
            case .active: "merchants.reinstate"
            case .suspended: "merchants.suspend"
            case .revoked: "merchants.revoke"
            }
        return AuditNote(action: action, subject: "merchant \(id)", details: reason.map { ["reason": $0] } ?? [:])
    }
}
