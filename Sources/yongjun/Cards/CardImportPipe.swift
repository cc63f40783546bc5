import Foundation
import YongjunStorage

/// Checked rows handed from the checking pass, on a thread of its own, to the store's writer while the file is still
/// being read, so the two passes of an import run at once on two cores instead of one after the other.
///
/// Only for an import the store writes in one transaction: the file may yet turn out bad (a late bad line, a card
/// number that appears twice), and then `next` throws `Refused` and the store rolls every row back. The writer is
/// never told the file is complete (`next` returning nil) before the whole file has been checked. At most
/// `depth` batches wait between the two, so memory stays flat whatever the file's size.
final class CardImportPipe: @unchecked Sendable {
    /// The file was refused (or the check failed): the writer must roll back.
    struct Refused: Error {}
    /// The writer stopped (its own error): the check stops too.
    struct WriterStopped: Error {}

    private let condition = NSCondition()
    private let batchSize = 2_048
    private let depth = 8
    // Shared, under `condition`.
    private var queue: [[CardImportRow]] = []
    private var outcome: Bool?
    private var writerStopped = false
    // The checking thread's alone.
    private var filling: [CardImportRow] = []
    // The writer's alone.
    private var draining: [CardImportRow] = []
    private var drainIndex = 0

    init() {
        filling.reserveCapacity(batchSize)
    }

    // MARK: the checking side

    /// Hands one checked row on; waits while the writer is `depth` batches behind.
    func send(_ row: CardImportRow) throws {
        filling.append(row)
        if filling.count == batchSize { try push() }
    }

    /// The check's verdict: every row good (the writer may commit once it has them all), or not.
    func finish(accepted: Bool) {
        if accepted, !filling.isEmpty { try? push() }
        filling = []
        condition.lock()
        if outcome == nil { outcome = accepted }
        condition.broadcast()
        condition.unlock()
    }

    private func push() throws {
        let batch = filling
        filling.removeAll(keepingCapacity: true)
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth, !writerStopped { condition.wait() }
        if writerStopped { throw WriterStopped() }
        queue.append(batch)
        condition.broadcast()
    }

    // MARK: the writing side

    /// The next checked row; nil only once the whole file was checked and found good. Throws `Refused` otherwise.
    func next() throws -> CardImportRow? {
        if drainIndex < draining.count {
            defer { drainIndex += 1 }
            return draining[drainIndex]
        }
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty, outcome == nil { condition.wait() }
        if outcome == false { throw Refused() }
        guard !queue.isEmpty else { return nil }
        draining = queue.removeFirst()
        condition.broadcast()
        drainIndex = 1
        return draining[0]
    }

    /// The writer gave up (its own error, or the rollback after `Refused`): a check waiting to hand rows on stops.
    func writerEnded() {
        condition.lock()
        writerStopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new thread (not one of the few the concurrency runtime shares), for blocking work such as reading
/// and checking a file while the task goes on.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result(catching: body)) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
