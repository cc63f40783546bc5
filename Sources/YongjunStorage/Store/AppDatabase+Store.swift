import Dispatch
import Foundation
import GRDB
import YongjunCore

/// The embedded SQLite store serves the same routes as PostgreSQL: the methods live with their tables
/// (AppDatabase+Holders, +ShopDevices, +Histories, ...); the few below exist only for this protocol.
extension AppDatabase: Store {
    public func openBatchNumber() async throws -> Int64? {
        try await dbWriter.read { db in
            try Int64.fetchOne(db, sql: "SELECT number FROM batches WHERE status = 'open' ORDER BY number DESC LIMIT 1")
        }
    }

    public func submitApplication(_ application: ImportedApplication, batch number: Int64, now: Date) async throws -> String {
        // The applications workflow is the admin CLI's synchronous, audited code: run it off the cooperative pool.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try importApplications([application], batch: number, now: now, source: "网上申请").first?.reference ?? "" }
                )
            }
        }
    }
}

extension AppDatabase: AdminStore {}
