import Foundation
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

extension ApplicationReview {
    /// One application's credit code and phone, as the reviews compare them.
    package struct Filed: Sendable {
        package let id: Int64
        package let batch: Int64
        package let creditCode: String
        package let phone: String

        package init(id: Int64, batch: Int64, creditCode: String, phone: String) {
            self.id = id
            self.batch = batch
            self.creditCode = creditCode
            self.phone = phone
        }
    }

    /// Reviews for `applications`, keyed by id, from the applications filed with their credit codes (`filed`, by id)
    /// and the partner shops' phones by credit code (`merchantPhones`, by merchant id; the last one of a code counts).
    package static func reviews(
        for applications: [Application],
        filed: [Filed],
        merchantPhones: [(creditCode: String, id: Int64, phone: String)]
    ) -> [Int64: ApplicationReview] {
        var byBatchAndCode: [String: [Int64]] = [:]
        var earlierApplications: [String: [Filed]] = [:]
        for application in filed {
            byBatchAndCode["\(application.batch)|\(application.creditCode)", default: []].append(application.id)
            earlierApplications[application.creditCode, default: []].append(application)
        }
        var phones: [String: (id: Int64, phone: String)] = [:]
        for merchant in merchantPhones { phones[merchant.creditCode] = (merchant.id, merchant.phone) }
        var reviews: [Int64: ApplicationReview] = [:]
        for application in applications {
            guard let id = application.id else { continue }
            let others = (byBatchAndCode["\(application.batchNumber)|\(application.creditCode)"] ?? []).filter { $0 != id }
            var onFile: (source: String, phone: String)?
            if let merchant = phones[application.creditCode] {
                onFile = ("merchant \(merchant.id)", merchant.phone)
            } else if let earlier = earlierApplications[application.creditCode]?.last(where: { $0.batch < application.batchNumber }) {
                onFile = ("application \(earlier.id), batch \(earlier.batch)", earlier.phone)
            }
            let check: PhoneCheck =
                onFile.map { file in
                    digits(file.phone) == digits(application.phone)
                        ? .matches(source: file.source) : .differs(source: file.source, phoneOnFile: file.phone)
                } ?? .noneOnFile
            reviews[id] = ApplicationReview(sameCreditCode: others, duplicateOf: others.first.flatMap { $0 < id ? $0 : nil }, phoneCheck: check)
        }
        return reviews
    }

    private static func digits(_ phone: String) -> String { phone.filter(\.isNumber) }
}
