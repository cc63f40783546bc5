import Foundation
import Logging
import ServiceLifecycle
import YongjunCore
import YongjunStorage

/// Files verifications into each card's history a few seconds after they are recorded, in sorted batches: a card
/// index written by every verification cost the verification path a random B-tree insert each (bench/verify fell
/// from ~19k to ~12k req/s). Records younger than `settle` are read by `holderHistory` straight from the table.
struct HistoryIndexer: Service {
    let database: any Store
    let logger: Logger
    var interval: Duration = .seconds(2)
    /// Older than any group still open: a request gets its id before it joins a group.
    var settle: TimeInterval = 60

    /// Returns (never throws) at graceful shutdown: a service that throws makes the whole process exit 1.
    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let settled = Date().addingTimeInterval(-settle)
                    let bound = RandomText.timeOrderedIDLowerBound(millis: UInt64(max(0, settled.timeIntervalSince1970 * 1000)))
                    // A full batch means more is waiting: go on at once.
                    while try await database.indexCardHistory(settled: bound, batch: 20_000) == 20_000, !Task.isCancelled {}
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("could not file verifications into card histories; retrying", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
