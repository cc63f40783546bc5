import Logging
import ServiceLifecycle
import Synchronization

/// Decides and records verifications in groups: every request's decision runs inside one shared write
/// transaction, reading the register as it stands, and every caller gets its answer once that transaction
/// is fsynced. Requests arriving while one group commits form the next group.
///
/// Measured here: one fsync ~170 µs, and a per-request async read from the pool costs more than the
/// decision itself; doing the reads inside the group's transaction removes both per-request costs.
/// Run it as a `Service` listed before the HTTP server, so that on shutdown it drains after the server stops;
/// on cancellation it also stops, answering what is still queued with `VerificationLogError.stopped`.
public final class VerificationLog: Service, Sendable {
    /// A decision made inside the transaction; it may record through the transaction. A throw rolls the group back.
    public typealias Job<T: Sendable> = @Sendable (any VerificationTransaction) throws -> T

    private struct Waiter: Sendable {
        /// What the job will read from the register (fetched for the whole group first).
        let reads: RegisterReads
        /// Runs the job inside the transaction.
        let run: @Sendable (any VerificationTransaction) throws -> Void
        /// Runs after the group committed, before any later group starts: where memory learns what is now durable.
        let committed: @Sendable () -> Void
        /// Runs after the group was rolled back, before any later group starts: undo what the job took from memory.
        let rolledBack: @Sendable () -> Void
        /// Delivers the job's result, or the commit's error.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Waiter] = []
        var wakeUp: CheckedContinuation<Void, Never>?
        var stopping = false
        var stopped = false
    }

    private let database: any Store
    private let logger: Logger
    private let state = Mutex(State())
    /// Told how long each group took to commit and how many requests it carried (metrics).
    private let onCommit: @Sendable (Duration, Int) -> Void

    public init(database: any Store, logger: Logger, onCommit: @escaping @Sendable (Duration, Int) -> Void = { _, _ in }) {
        self.database = database
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Runs `job` in the next group's transaction and returns its result once that group is committed.
    /// `committed` and `rolledBack` see the job's result (nil when the job itself threw). `reads` names the register
    /// rows the job will read, for the store to fetch with the rest of the group's.
    public func submit<T: Sendable>(
        reads: RegisterReads = RegisterReads(),
        _ job: @escaping Job<T>,
        committed: @escaping @Sendable (T) -> Void = { _ in },
        rolledBack: @escaping @Sendable (T?) -> Void = { _ in }
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let waiter = Waiter(
                reads: reads,
                run: { transaction in box.value = try job(transaction) },
                committed: { if let value = box.value { committed(value) } },
                rolledBack: { rolledBack(box.value) },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else if let value = box.value {
                        continuation.resume(returning: value)
                    } else {
                        continuation.resume(throwing: VerificationLogError.stopped)
                    }
                }
            )
            let (accepted, wake) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.stopped else { return (false, nil) }
                state.pending.append(waiter)
                defer { state.wakeUp = nil }
                return (true, state.wakeUp)
            }
            if !accepted { continuation.resume(throwing: VerificationLogError.stopped) }
            wake?.resume()
        }
    }

    public func run() async throws {
        // Graceful shutdown drains; cancellation (after drain_timeout) must not wait on another process's lock either.
        await withTaskCancellationHandler {
            await drain()
        } onCancel: {
            database.abandonLockWaits()
        }
        await database.verificationLogStopped()
    }

    private func drain() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            while let batch = await nextBatch() {
                await commit(batch)
            }
        } onCancelOrGracefulShutdown: {
            let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.stopping = true
                defer { state.wakeUp = nil }
                return state.wakeUp
            }
            wake?.resume()
        }
    }

    private func commit(_ batch: [Waiter]) async {
        let start = ContinuousClock.now
        var reads = RegisterReads()
        for waiter in batch { reads.add(waiter.reads) }
        do {
            try await database.inVerificationTransaction { [reads] transaction in
                if !reads.isEmpty { try transaction.prefetch(reads) }
                for waiter in batch { try waiter.run(transaction) }
            }
            onCommit(ContinuousClock.now - start, batch.count)
            for waiter in batch { waiter.committed() }
            for waiter in batch { waiter.finish(nil) }
        } catch {
            logger.error(
                "could not record verifications; none of this group was acknowledged",
                metadata: ["count": "\(batch.count)", "error": "\(error)"]
            )
            for waiter in batch { waiter.rolledBack() }
            for waiter in batch { waiter.finish(error) }
        }
    }

    /// Waits for work; nil once stopping and nothing is left.
    private func nextBatch() async -> [Waiter]? {
        while true {
            let batch = state.withLock { state -> [Waiter]? in
                if !state.pending.isEmpty {
                    let batch = state.pending
                    state.pending = []
                    return batch
                }
                if state.stopping {
                    state.stopped = true
                    return nil
                }
                return []
            }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.pending.isEmpty || state.stopping { return true }
                    state.wakeUp = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}

/// Holds a job's result between the writer running it and the commit; touched by one thread at a time.
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var value: T?
}

/// Why a verification could not be recorded.
public enum VerificationLogError: Error, Sendable {
    /// The service is shutting down and no longer takes records.
    case stopped
}
