import Foundation
import Hummingbird
import Logging
import YongjunCore
import YongjunStorage

/// Everything the server needs, opened by the caller (the `serve` command or a test).
public struct ServerDependencies: Sendable {
    public var database: AppDatabase
    public var keys: KeyRingProvider
    public var now: @Sendable () -> Date

    public init(database: AppDatabase, keys: KeyRingProvider, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.keys = keys
        self.now = now
    }
}

/// Builds the Yongjun HTTP application: routes, the verification log service, and start-up work.
public func buildApplication(
    settings: ServerSettings,
    dependencies: ServerDependencies,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let log = VerificationLog(database: dependencies.database, logger: logger)
    let service = VerificationService(
        database: dependencies.database,
        log: log,
        keys: dependencies.keys,
        settings: settings,
        now: dependencies.now
    )
    var app = Application(
        router: buildRouter(service: service, keys: dependencies.keys, settings: settings),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
        services: [log],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger
    )
    app.beforeServerStarts {
        try await service.restoreLedger()
    }
    return app
}

/// The routes; tests call this too.
func buildRouter(service: VerificationService, keys: KeyRingProvider, settings: ServerSettings) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.get("/healthz") { _, _ in "ok" }
    router.addRoutes(WellKnownController(keys: keys).endpoints, atPath: "/.well-known")
    router.addRoutes(
        VerificationController(service: service, maximumBodySize: settings.maximumBodySize).endpoints,
        atPath: "/api/v1/verifications"
    )
    return router
}
