import Foundation
import YongjunCore

/// Who is acting, and how to chain what they do into the audit log.
public struct AuditContext: Sendable {
    public let operatorName: String
    let chain: AuditChain
    /// A small file beside the database holding the last entry's number, so entries cut off the end are noticed.
    let headPath: String

    public init(operatorName: String, chain: AuditChain, directory: DataDirectory) {
        self.operatorName = operatorName
        self.chain = chain
        self.headPath = directory.path + "/audit.head"
    }

    /// The entry count recorded in the head file, if any.
    var recordedCount: Int64? {
        FileManager.default.contents(atPath: headPath).flatMap {
            Int64(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    func recordCount(_ count: Int64) throws {
        let temporary = headPath + ".tmp"
        try Data("\(count)\n".utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, headPath) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: headPath])
        }
    }
}

/// What an audited write did, filled in by the write itself (e.g. the id it created).
public struct AuditNote: Sendable {
    public var action: String
    public var subject: String
    public var details: [String: String]

    public init(action: String, subject: String = "", details: [String: String] = [:]) {
        self.action = action
        self.subject = subject
        self.details = details
    }
}
