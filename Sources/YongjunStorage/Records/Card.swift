import Foundation
import GRDB
import YongjunCore

/// 优待证 — a preferential-treatment card in the bureau's register.
public struct Card: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "cards"

    /// Opaque id carried in codes as `sub`; not the printed card number.
    public var id: String
    public var cardNo: String
    public var name: String
    public var idNumberHash: String
    public var category: CardCategory
    public var validUntil: String
    public var phone: String?
    public var status: String
    public var revokedAt: String?
    public var revokeReason: String?
    public var createdAt: String
    public var updatedAt: String
    /// The card's entry in the status list: random, stable, unique (see `StatusIndexAllocator`).
    public var statusIdx: Int?
    /// 残疾等级 1…10 for a 残疾军人 card.
    public var disabilityGrade: Int?

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public enum Columns {
        static let id = Column("id")
        static let cardNo = Column("card_no")
        static let status = Column("status")
    }

    public var isRevoked: Bool { status == "revoked" }

    public var standing: CardStanding? {
        CalendarDate(iso: validUntil).map { CardStanding(cardID: id, category: category, validUntil: $0, revoked: isRevoked) }
    }

    public var codeSubject: CodeSubject { CodeSubject(cardID: id, name: name, category: category, statusIndex: statusIdx) }
}
