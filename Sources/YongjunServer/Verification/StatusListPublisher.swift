import Crypto
import Foundation
import Logging
import Synchronization
import YongjunCore
import YongjunStorage

/// Builds, signs and caches the status list token. A list older than `status_list_ttl` is rebuilt by the next
/// request that needs it (one rebuild at a time; the others wait for it), so a revocation is in the list at most
/// `status_list_ttl` seconds after it was made. The online verification path never reads this: it reads the register.
final class StatusListPublisher: Sendable {
    struct Published: Sendable {
        let token: String
        let etag: String
        /// When the register was last read for it.
        let builtAt: Int
        /// The token's own `iat`.
        let issuedAt: Int
        let content: String
        /// Entries that are not valid (for the metrics and the bench).
        let flagged: Int
        let count: Int
    }

    private let database: any Store
    private let keys: KeyRingProvider
    private let settings: ServerSettings
    private let uri: Mutex<String>
    private let state = Mutex<(published: Published?, building: Task<Published, any Error>?)>((nil, nil))

    init(database: any Store, keys: KeyRingProvider, settings: ServerSettings) {
        self.database = database
        self.keys = keys
        self.settings = settings
        self.uri = Mutex(Self.uri(base: settings.publicURL ?? "http://\(settings.host):\(settings.port)"))
    }

    static func uri(base: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/api/v1/status-list"
    }

    /// The list's URL, as codes name it.
    var statusListURI: String { uri.withLock { $0 } }

    /// Called once the server listens (with port 0 the port is known only then); the CLI reads it back to put the
    /// same URL into printed codes. Waits for the record at most `patience`, then serves on and lets it be written
    /// in the background (tried again every 2 s, for about ten minutes): on SQLite an import started without a server
    /// holds the write lock until it commits, and Hummingbird answers no connection before this returns — a server
    /// started during an import answered nothing, not even /healthz, until the import was done.
    func announce(port: Int, logger: Logger, patience: Duration = .seconds(1)) async {
        let value = Self.uri(base: settings.publicURL ?? "http://\(settings.host):\(port)")
        uri.withLock { $0 = value }
        let database = database
        let recording = Task {
            for attempt in 1...50 {
                do {
                    return try await database.setServiceState(AppDatabase.statusListURIState, value)
                } catch {
                    if attempt == 1 || attempt == 50 {
                        logger.warning(
                            attempt == 1
                                ? "could not record the status list URL for the CLI yet; trying again" : "gave up recording the status list URL",
                            metadata: ["error": "\(error)"]
                        )
                    }
                    try? await Task.sleep(for: .seconds(2))
                }
            }
        }
        // Whichever ends first: the record, or the patience.
        let (ended, end) = AsyncStream<Void>.makeStream()
        let timer = Task {
            try? await Task.sleep(for: patience)
            end.finish()
        }
        Task {
            await recording.value
            end.finish()
        }
        for await _ in ended {}
        timer.cancel()
    }

    /// The current token, rebuilt first when it is older than the TTL.
    func current(now: Date) async throws -> Published {
        let nowSeconds = Int(now.timeIntervalSince1970)
        enum Next {
            case fresh(Published)
            case wait(Task<Published, any Error>)
        }
        let next = state.withLock { state -> Next in
            if let published = state.published, nowSeconds - published.builtAt < settings.statusListTTL { return .fresh(published) }
            if let building = state.building { return .wait(building) }
            let building = Task { try await self.build(now: now) }
            state.building = building
            return .wait(building)
        }
        let task: Task<Published, any Error>
        switch next {
        case .fresh(let published): return published
        case .wait(let building): task = building
        }
        do {
            let published = try await task.value
            state.withLock { state in
                if state.building == task {
                    state.published = published
                    state.building = nil
                }
            }
            return published
        } catch {
            state.withLock { state in if state.building == task { state.building = nil } }
            throw error
        }
    }

    /// Reads the register; when nothing in the list changed (same entries, same key, same URL) and the token is less
    /// than `offline_max_age` old, keeps the token, so caches and `If-None-Match` keep working between rebuilds.
    /// A token lives `2 × offline_max_age + ttl`, so one handed out as late as that still outlives the snapshot
    /// that carries it.
    private func build(now: Date) async throws -> Published {
        let source = try await database.statusListSource(today: CalendarDate(chinaDayOf: now))
        var list = StatusList(count: source.count)
        for entry in source.entries { list.set(entry.index, entry.value) }
        _ = keys.reloadIfStale(now: now)
        guard let key = keys.keyRing.current else { throw StatusListUnavailable() }
        let iat = Int(now.timeIntervalSince1970)
        let lst = Base64URL.encode(try list.compressed())
        let content = key.kid + "|" + statusListURI + "|" + lst
        if let kept = state.withLock({ $0.published }), kept.content == content, iat - kept.issuedAt < settings.offlineMaxAge {
            return Published(
                token: kept.token,
                etag: kept.etag,
                builtAt: iat,
                issuedAt: kept.issuedAt,
                content: content,
                flagged: source.entries.count,
                count: list.count
            )
        }
        let claims = StatusListClaims(
            iss: settings.issuer,
            sub: statusListURI,
            iat: iat,
            exp: iat + 2 * settings.offlineMaxAge + settings.statusListTTL,
            ttl: settings.statusListTTL,
            statusList: .init(bits: StatusList.bits, lst: lst)
        )
        let token = try key.sign(claims, type: StatusListClaims.type)
        let digest = SHA256.hash(data: Array(token.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
        return Published(
            token: token,
            etag: "\"\(digest)\"",
            builtAt: iat,
            issuedAt: iat,
            content: content,
            flagged: source.entries.count,
            count: list.count
        )
    }
}

/// No signing key: the list cannot be signed (503).
struct StatusListUnavailable: Error {}
