import Logging
import ServiceLifecycle
import Synchronization

/// Decides and records verifications in groups: every request's decision runs inside one shared write
/// transaction, reading the register as it stands, and every caller gets its answer once that transaction
/// is fsynced. Requests arriving while one group commits form the next group.
///
/// Measured here: one fsync ~170 µs, and a per-request async read from the pool costs more than the
/// decision itself; doing the reads inside the group's transaction removes both per-request costs.
/// Run it as a `Service` listed before the HTTP server, so that on shutdown it drains after the server stops.
public final class VerificationLog: Service, Sendable {
    /// A decision to make inside the transaction: reads the register, may return a record to insert.
    public typealias Job<T: Sendable> = @Sendable (RegisterSnapshot) throws -> (T, VerificationEntry?)

    private struct Waiter: Sendable {
        /// Runs the job; returns the record to insert, if any.
        let run: @Sendable (RegisterSnapshot) -> VerificationEntry?
        /// Delivers the job's result, or the commit's error.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private struct State {
        var pending: [Waiter] = []
        var wakeUp: CheckedContinuation<Void, Never>?
        var stopping = false
        var stopped = false
    }

    private let database: AppDatabase
    private let logger: Logger
    private let state = Mutex(State())
    /// Told how long each group took to commit and how many requests it carried (metrics).
    private let onCommit: @Sendable (Duration, Int) -> Void

    public init(database: AppDatabase, logger: Logger, onCommit: @escaping @Sendable (Duration, Int) -> Void = { _, _ in }) {
        self.database = database
        self.logger = logger
        self.onCommit = onCommit
    }

    /// Runs `job` in the next group's transaction and returns its result once that group is committed.
    public func submit<T: Sendable>(_ job: @escaping Job<T>) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ResultBox<T>()
            let waiter = Waiter(
                run: { snapshot in
                    do {
                        let (value, entry) = try job(snapshot)
                        box.result = .success(value)
                        return entry
                    } catch {
                        box.result = .failure(error)
                        return nil
                    }
                },
                finish: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else if let result = box.result {
                        continuation.resume(with: result)
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
        await withGracefulShutdownHandler {
            while let batch = await nextBatch() {
                do {
                    let start = ContinuousClock.now
                    try await database.inVerificationTransaction { snapshot in
                        batch.compactMap { $0.run(snapshot) }
                    }
                    onCommit(ContinuousClock.now - start, batch.count)
                    for waiter in batch { waiter.finish(nil) }
                } catch {
                    logger.error("could not record verifications", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                    for waiter in batch { waiter.finish(error) }
                }
            }
        } onGracefulShutdown: {
            let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.stopping = true
                defer { state.wakeUp = nil }
                return state.wakeUp
            }
            wake?.resume()
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
    var result: Result<T, any Error>?
}

/// Why a verification could not be recorded.
public enum VerificationLogError: Error, Sendable {
    /// The service is shutting down and no longer takes records.
    case stopped
}
