import Foundation
import GRDB
import YongjunCore

/// A partner shop (合作商户) that may verify codes with its API key.
public struct Merchant: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "merchants"

    public var id: Int64?
    public var name: String
    public var industry: Industry
    public var address: String?
    public var benefit: String?
    public var status: Status
    public var apiKeyId: String?
    public var apiKeyHash: String?
    public var apiKeyIssuedAt: String?
    public var createdAt: String
    public var creditCode: String?
    public var contact: String?
    public var phone: String?
    public var batchNumber: Int64?
    public var applicationId: Int64?
    /// Why the shop was last suspended or revoked.
    public var statusReason: String?
    public var statusChangedAt: String?

    public enum Status: String, Codable, Sendable {
        case active
        case suspended
        case revoked
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum Columns {
        static let apiKeyId = Column("api_key_id")
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// What the verification path needs to authenticate a shop.
public struct MerchantCredential: Sendable {
    public let merchantID: Int64
    public let status: Merchant.Status
    public let keyHash: String

    package init(merchantID: Int64, status: Merchant.Status, keyHash: String) {
        self.merchantID = merchantID
        self.status = status
        self.keyHash = keyHash
    }
}
