import GRDB
import YongjunCore

/// 批次 — one round of shop applications, from the public call to the approval meeting.
public struct Batch: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "batches"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var number: Int64?
    /// China calendar day the batch opened, YYYY-MM-DD.
    public var openedOn: String
    public var closedOn: String?
    /// Day of the meeting that approved it (开会通过), once held.
    public var meetingDate: String?
    public var status: Status

    public enum Status: String, Codable, Sendable {
        case open
        case closed
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        number = inserted.rowID
    }
}

/// 入驻申请 — a shop's application to become a partner, in one batch.
public struct Application: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "applications"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var batchNumber: Int64
    public var shopName: String
    public var creditCode: String
    public var industry: Industry
    public var address: String
    public var contact: String
    public var phone: String
    public var benefit: String
    public var stage: ReviewStage
    /// For a rejected application: the stage it was turned down at.
    public var rejectedAtStage: ReviewStage?
    public var rejectReason: String?
    /// The partner shop created when the meeting approved it.
    public var merchantId: Int64?
    public var createdAt: String
    public var updatedAt: String

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }

    /// The reference number the applicant is given (YJ-batch-id), which they quote when they call the bureau.
    public var reference: String { "YJ-\(batchNumber)-\(id ?? 0)" }
}

/// One step in an application's history: who moved it from where to where, when, and why.
public struct ApplicationEvent: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "application_events"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var applicationId: Int64
    public var fromStage: ReviewStage?
    public var toStage: ReviewStage
    public var note: String?
    public var `operator`: String
    public var at: String

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
