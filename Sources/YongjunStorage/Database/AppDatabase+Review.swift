import Foundation
import GRDB
import YongjunCore

/// What a reviewer needs beside an application: the other applications with its credit code in its batch, and
/// whether the phone it gives matches the one the bureau already has for that credit code.
public struct ApplicationReview: Sendable, Equatable {
    /// Other applications in the same batch with the same credit code, by id.
    public let sameCreditCode: [Int64]
    /// The earliest of those, when it came first: this one is then the `duplicate of` it.
    public let duplicateOf: Int64?
    public let phoneCheck: PhoneCheck
}

/// The applicant's phone against the one on file for the credit code: a partner shop's, or an earlier batch's application's.
public enum PhoneCheck: Sendable, Equatable, CustomStringConvertible {
    case noneOnFile
    case matches(source: String)
    case differs(source: String, phoneOnFile: String)

    public var description: String {
        switch self {
        case .noneOnFile: "no phone on file for this credit code"
        case .matches(let source): "matches the phone on file (\(source))"
        case .differs(let source, let phone): "DIFFERS from \(phone) on file (\(source)); call that number to check"
        }
    }
}

extension AppDatabase {
    /// Reviews for `applications`, keyed by application id; one read of the register for any number of them.
    public func applicationReviews(_ applications: [Application]) throws -> [Int64: ApplicationReview] {
        try dbWriter.read { db in
            var byBatchAndCode: [String: [Int64]] = [:]
            var earlierApplications: [String: [(id: Int64, batch: Int64, phone: String)]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, batch_number, credit_code, phone FROM applications ORDER BY id") {
                let id: Int64 = row[0]
                let batch: Int64 = row[1]
                let code: String = row[2]
                byBatchAndCode["\(batch)|\(code)", default: []].append(id)
                earlierApplications[code, default: []].append((id, batch, row[3]))
            }
            var merchantPhones: [String: (id: Int64, phone: String)] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT credit_code, id, phone FROM merchants WHERE credit_code IS NOT NULL AND phone IS NOT NULL AND phone != '' ORDER BY id"
            ) {
                merchantPhones[row[0]] = (row[1], row[2])
            }
            var reviews: [Int64: ApplicationReview] = [:]
            for application in applications {
                guard let id = application.id else { continue }
                let others = (byBatchAndCode["\(application.batchNumber)|\(application.creditCode)"] ?? []).filter { $0 != id }
                var onFile: (source: String, phone: String)?
                if let merchant = merchantPhones[application.creditCode] {
                    onFile = ("merchant \(merchant.id)", merchant.phone)
                } else if let earlier = earlierApplications[application.creditCode]?.last(where: { $0.batch < application.batchNumber }) {
                    onFile = ("application \(earlier.id), batch \(earlier.batch)", earlier.phone)
                }
                let check: PhoneCheck =
                    onFile.map { file in
                        Self.digits(file.phone) == Self.digits(application.phone)
                            ? .matches(source: file.source) : .differs(source: file.source, phoneOnFile: file.phone)
                    } ?? .noneOnFile
                reviews[id] = ApplicationReview(
                    sameCreditCode: others,
                    duplicateOf: others.first.flatMap { $0 < id ? $0 : nil },
                    phoneCheck: check
                )
            }
            return reviews
        }
    }

    private static func digits(_ phone: String) -> String { phone.filter(\.isNumber) }
}
