import Logging
import ServiceLifecycle
import Synchronization

/// Records verifications durably with group commit: every caller waits until its record is fsynced,
/// and all records that arrive while one commit is running go into the next one together.
///
/// One fsync costs ~170 µs here; committing records one by one would cap the endpoint near 6k/s.
/// Run it as a `Service` started before the HTTP server, so that on shutdown it drains after the server stops.
public final class VerificationLog: Service, Sendable {
    private struct State {
        var pending: [Waiter] = []
        var wakeUp: CheckedContinuation<Void, Never>?
        var stopping = false
        var stopped = false
    }

    /// A caller waiting for its record (or, with no record, for everything queued before it) to be committed.
    private typealias Waiter = (entry: VerificationEntry?, continuation: CheckedContinuation<Void, any Error>)

    private let database: AppDatabase
    private let logger: Logger
    private let state = Mutex(State())

    public init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Returns once `entry` is committed; throws if it could not be written.
    public func record(_ entry: VerificationEntry) async throws {
        try await enqueue(entry)
    }

    /// Returns once every record queued before this call is committed (a retried request waits for its original).
    public func flush() async throws {
        try await enqueue(nil)
    }

    private func enqueue(_ entry: VerificationEntry?) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.stopped else { return (false, nil) }
                state.pending.append((entry, continuation))
                defer { state.wakeUp = nil }
                return (true, state.wakeUp)
            }
            if !outcome.0 { continuation.resume(throwing: VerificationLogError.stopped) }
            outcome.1?.resume()
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while let batch = await nextBatch() {
                do {
                    let entries = batch.compactMap(\.entry)
                    if !entries.isEmpty { try await database.insertVerifications(entries) }
                    for waiter in batch { waiter.continuation.resume() }
                } catch {
                    logger.error("could not record verifications", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                    for waiter in batch { waiter.continuation.resume(throwing: error) }
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

    /// Waits for records; nil once stopping and nothing is left to write.
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

/// Why a verification could not be recorded.
public enum VerificationLogError: Error, Sendable {
    /// The service is shutting down and no longer takes records.
    case stopped
}
