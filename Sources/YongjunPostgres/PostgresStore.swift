import Dispatch
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YongjunCore
import YongjunStorage

/// The store on PostgreSQL: several Yongjun instances share one database through it, and every promise the service
/// makes across requests (single use, nonces, 9-digit numbers, guess budgets, sign-in locks, sessions) is kept by
/// its unique indexes and transactions, not by one process's memory.
///
/// Reads and writes of the routes are async through postgres-nio's pool; the verification log's group transaction
/// runs on one dedicated writer thread (see `PostgresVerificationTransaction`). `synchronous_commit` stays on, so a
/// group is answered only after PostgreSQL has flushed its commit.
public final class PostgresStore: Store, Sendable {
    public let client: PostgresClient
    let logger: Logger
    let cache = RegisterCache()
    /// The verification log's groups run here, one at a time, blocking on each statement (never on an event loop).
    let writer = DispatchQueue(label: "yongjun.postgres.verifications")
    /// The connection the groups run on, kept between them.
    let writerLease = WriterLease()

    /// A store over `client`, whose pool the caller runs (`serve` lists it first in its service group, so it stops
    /// last; commands use `PostgresClient.withRunning`). The schema must be migrated (`PostgresMigrator`).
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The key for `pg_advisory_xact_lock` under which guess budgets are counted and spent.
    static let guessBudgetLock: Int64 = 0x594A_4755_4553_53  // "YJGUESS"

    /// The SQLSTATEs `yongjun_group_whole` raises when a group's one-statement write lost a row to another instance,
    /// or found the register changed since the group's reads.
    static let groupNotWholeState = "YJ409"
    static let registerChangedState = "YJ412"

    public func ping() async throws {
        let logger = logger
        // A frozen server holds a statement on an idle pooled connection for ever; readiness must still answer.
        _ = try await Self.abandoning(after: Self.leaseDeadline + .seconds(2)) {
            try await self.withConnection(within: Self.leaseDeadline) { connection in
                try await connection.query("SELECT 1", logger: logger).collect().count
            }
        }
    }

    /// `body`'s result, or `timeout` (`PostgresUnavailable`) once `deadline` passed without one, or `CancellationError`
    /// as soon as the caller is cancelled. The body is then left to end whenever its connection does: a statement
    /// sent to a server that froze (sockets open, nothing answering), or written to a connection that has just
    /// closed, gets neither an answer nor an error, and cancellation does not reach it. It is told of the
    /// cancellation all the same (a request whose client left stops waiting for a lease).
    static func abandoning<T: Sendable>(
        after deadline: Duration,
        orThrow timeout: any Error = PostgresUnavailable(),
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let work = AbandonedWork<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let once = ResumeOnce(continuation)
                let timer = Task {
                    try await Task.sleep(for: deadline)
                    once.resume(with: .failure(timeout))
                }
                work.start(
                    Task {
                        do { once.resume(with: .success(try await body())) } catch { once.resume(with: .failure(error)) }
                        timer.cancel()
                    },
                    answering: once
                )
            }
        } onCancel: {
            work.cancel()
        }
    }

    /// How long a request waits for a connection before it is answered "unavailable" (503, retry with the same
    /// nonce): the pool retries an unreachable server for ever, and a shop at the till cannot wait for ever.
    static let leaseDeadline: Duration = .seconds(3)

    /// `client.withConnection`, but giving up with `PostgresUnavailable` when no connection is leased within
    /// `deadline`. Once leased, `body` runs to its end however long it takes (a group may be committing).
    func withConnection<T: Sendable>(within deadline: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        let leased = LeaseMark()
        let client = client
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.mark()
                    return try await body(connection)
                }
            }
            group.addTask {
                do { try await Task.sleep(for: deadline) } catch { return nil }
                if !leased.done { throw PostgresUnavailable() }
                return nil
            }
            while let finished = try await group.next() {
                if let result = finished {
                    group.cancelAll()
                    return result
                }
            }
            throw PostgresUnavailable()
        }
    }

    public func abandonLockWaits() {
        // A group waits on PostgreSQL only for its own statements, which end with the connection; nothing to abandon.
    }

    public func verificationLogStopped() async {
        writerLease.giveBack()
    }

    // MARK: Rows as records

    /// A whole row as `row_to_json(...)::text`, decoded by the record's own Codable conformance (snake_case columns).
    static func decodeRecord<Record: Decodable>(_ type: Record.Type, _ row: PostgresRow) throws -> Record {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Record.self, from: Data(try row.decode(String.self).utf8))
    }

    static func card(where column: String, equals value: String, connection: PostgresConnection, logger: Logger) async throws -> Card? {
        precondition(column == "card_no" || column == "id")
        let query: PostgresQuery =
            column == "id"
            ? "SELECT row_to_json(cards)::text FROM cards WHERE id = \(value)"
            : "SELECT row_to_json(cards)::text FROM cards WHERE card_no = \(value)"
        return try await connection.query(query, logger: logger).collect().first.map { try decodeRecord(Card.self, $0) }
    }
}

/// No connection to PostgreSQL could be had in time: the request is answered as unavailable, nothing was recorded.
public struct PostgresUnavailable: StoreUnreachable, CustomStringConvertible {
    public var description: String { "no PostgreSQL connection within \(PostgresStore.leaseDeadline)" }
}

/// A statement of a verification group, or a route's store call, got no answer within its deadline: the connection
/// is presumed lost (or the server frozen).
public struct PostgresStatementTimedOut: StoreUnreachable, CustomStringConvertible {
    public var description: String { "no answer from PostgreSQL within \(PostgresVerificationTransaction.statementSeconds) s" }
}

/// The task `abandoning` runs its body in, and the caller's continuation: on the caller's cancellation (also when it
/// came first) the body is cancelled and the caller answered `CancellationError` without waiting for it.
final class AbandonedWork<T: Sendable>: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, caller: ResumeOnce<T>?, cancelled: Bool)>((nil, nil, false))

    func start(_ task: Task<Void, Never>, answering caller: ResumeOnce<T>) {
        let cancelled = state.withLock { state in
            (state.task, state.caller) = (task, caller)
            return state.cancelled
        }
        if cancelled { stop(task, caller) }
    }

    func cancel() {
        let (task, caller) = state.withLock { state in
            state.cancelled = true
            return (state.task, state.caller)
        }
        if let task, let caller { stop(task, caller) }
    }

    private func stop(_ task: Task<Void, Never>, _ caller: ResumeOnce<T>) {
        task.cancel()
        caller.resume(with: .failure(CancellationError()))
    }
}

/// Set once a connection was leased.
final class LeaseMark: Sendable {
    private let state = Mutex(false)
    var done: Bool { state.withLock { $0 } }
    func mark() { state.withLock { $0 = true } }
}

/// A continuation resumed by whichever of several tasks gets there first; the others find it taken.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func resume(with outcome: Result<T, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: outcome)
    }
}
