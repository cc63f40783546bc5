import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Registers an active merchant directly (the application workflow comes through batches).
    public func addMerchant(name: String, industry: Industry, address: String?, benefit: String?, now: Date) throws -> Merchant {
        try dbWriter.write { db in
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
            return merchant
        }
    }

    /// Stores the hash of a new API key for a merchant; the previous key stops working at once.
    public func replaceMerchantKey(merchantID: Int64, with key: MerchantAPIKey, now: Date) throws {
        defer { registerCache.invalidate() }
        try dbWriter.write { db in
            guard var merchant = try Merchant.fetchOne(db, key: merchantID) else { throw RegisterError.merchantNotFound(merchantID) }
            guard merchant.status != .revoked else {
                throw RegisterError("merchant \(merchantID) is revoked; a revoked merchant cannot get a key")
            }
            merchant.apiKeyId = key.keyID
            merchant.apiKeyHash = key.secretHash
            merchant.apiKeyIssuedAt = Timestamp.iso(now)
            try merchant.update(db)
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

    /// Changes a merchant's standing; verifications by a suspended or revoked merchant are refused at once.
    public func setMerchantStatus(id: Int64, to status: Merchant.Status) throws {
        defer { registerCache.invalidate() }
        try dbWriter.write { db in
            guard var merchant = try Merchant.fetchOne(db, key: id) else { throw RegisterError.merchantNotFound(id) }
            merchant.status = status
            try merchant.update(db)
        }
    }
}
