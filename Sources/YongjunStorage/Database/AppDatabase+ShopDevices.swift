import Foundation
import GRDB
import YongjunCore

/// A cashier device (a browser) signed in for a shop: the `/shop` page's cookie is its session token, stored here
/// only as a hash. The shop lists and revokes its devices with its API key; a new API key revokes them all.
public struct ShopDevice: Sendable, Codable, Equatable {
    public var id: Int64
    public var label: String
    public var createdAt: String
    public var lastSeenAt: String?
    public var revokedAt: String?

    package init(id: Int64, label: String, createdAt: String, lastSeenAt: String?, revokedAt: String?) {
        self.id = id
        self.label = label
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.revokedAt = revokedAt
    }
}

extension AppDatabase {
    /// Signs a device in for `merchantID`; `token` becomes its cookie.
    public func addShopDevice(merchantID: Int64, token: String, label: String, now: Date) async throws {
        try await dbWriter.write { db in
            try db.execute(
                sql: "INSERT INTO shop_devices (merchant_id, token_hash, label, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [merchantID, HolderSecret.digest(token), String(label.prefix(120)), Timestamp.iso(now), Timestamp.iso(now)]
            )
        }
    }

    /// The shop a device session belongs to, while the session is not revoked.
    public func merchant(deviceToken token: String) async throws -> Merchant? {
        try await dbWriter.read { db in
            try Merchant.fetchOne(
                db,
                sql: """
                    SELECT merchants.* FROM shop_devices JOIN merchants ON merchants.id = shop_devices.merchant_id
                    WHERE shop_devices.token_hash = ? AND shop_devices.revoked_at IS NULL
                    """,
                arguments: [HolderSecret.digest(token)]
            )
        }
    }

    /// A shop's devices, newest first, revoked ones included.
    public func shopDevices(merchantID: Int64) async throws -> [ShopDevice] {
        try await dbWriter.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, label, created_at, last_seen_at, revoked_at FROM shop_devices WHERE merchant_id = ? ORDER BY id DESC",
                arguments: [merchantID]
            ).map { ShopDevice(id: $0[0], label: $0[1], createdAt: $0[2], lastSeenAt: $0[3], revokedAt: $0[4]) }
        }
    }

    /// Ends one of the shop's device sessions at once; false when the shop has no such live device.
    public func revokeShopDevice(merchantID: Int64, deviceID: Int64, now: Date) async throws -> Bool {
        defer { registerCache.invalidate() }
        return try await dbWriter.write { db in
            try db.execute(
                sql: "UPDATE shop_devices SET revoked_at = ? WHERE id = ? AND merchant_id = ? AND revoked_at IS NULL",
                arguments: [Timestamp.iso(now), deviceID, merchantID]
            )
            return db.changesCount == 1
        }
    }

    public func merchant(id: Int64) async throws -> Merchant? {
        try await dbWriter.read { db in try Merchant.fetchOne(db, key: id) }
    }

    /// Shops, optionally only those with `status` or in `industry`, by id (for request handlers).
    public func merchants(status: Merchant.Status? = nil, industry: Industry? = nil) async throws -> [Merchant] {
        try await dbWriter.read { db in try Self.merchantsRequest(status: status, industry: industry).fetchAll(db) }
    }
}
