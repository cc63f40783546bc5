import Foundation
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where PIN hashes are computed: a few threads of their own, at a lower CPU priority, never a request executor.
///
/// PBKDF2 is slow on purpose; a flood of sign-ins must queue here (up to `queueLimit`, then 503 at once) instead of
/// taking the threads and cores that shops' verifications need. Run it as a service so its threads stop with the app.
final class PINHashPool: Service, Sendable {
    private let pool: NIOThreadPool
    private let admitted = Atomic<Int>(0)
    private let limit: Int

    /// `threads` hash at once; `queueLimit` more may wait.
    init(threads: Int, queueLimit: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        limit = threads + queueLimit
    }

    /// Too many sign-ins are already waiting.
    struct Busy: Error {}

    /// Runs `body` on the pool; throws `Busy` without waiting when the queue is full.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard admitted.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            admitted.wrappingSubtract(1, ordering: .relaxed)
            throw Busy()
        }
        defer { admitted.wrappingSubtract(1, ordering: .relaxed) }
        return try await pool.runIfActive {
            Self.lowerPriority()
            return try body()
        }
    }

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdownGracefully()
    }

    /// Linux keeps a nice value per thread, so this lowers only the pool's own thread (a no-op once done).
    private static func lowerPriority() {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }
}
