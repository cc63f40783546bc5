import Foundation
import GRDB
import YongjunCore

extension AppDatabase {
    /// Reviews for `applications`, keyed by application id; one read of the register for any number of them.
    public func applicationReviews(_ applications: [Application]) throws -> [Int64: ApplicationReview] {
        try dbWriter.read { db in
            let filed = try Row.fetchAll(db, sql: "SELECT id, batch_number, credit_code, phone FROM applications ORDER BY id").map {
                ApplicationReview.Filed(id: $0[0], batch: $0[1], creditCode: $0[2], phone: $0[3])
            }
            let phones = try Row.fetchAll(
                db,
                sql: "SELECT credit_code, id, phone FROM merchants WHERE credit_code IS NOT NULL AND phone IS NOT NULL AND phone != '' ORDER BY id"
            ).map { (creditCode: $0[0] as String, id: $0[1] as Int64, phone: $0[2] as String) }
            return ApplicationReview.reviews(for: applications, filed: filed, merchantPhones: phones)
        }
    }
}
