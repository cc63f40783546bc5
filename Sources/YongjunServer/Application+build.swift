import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Mustache
import NIOCore
import YongjunCore
import YongjunStorage

/// Everything the server needs, opened by the caller (the `serve` command or a test).
public struct ServerDependencies: Sendable {
    public var database: any Store
    public var keys: KeyRingProvider
    public var metrics: ServerMetrics
    public var now: @Sendable () -> Date
    /// Shared by the main and the admin listener: `/readyz` on either tells whether the main one serves.
    public var readiness: ServerReadiness

    public init(
        database: any Store,
        keys: KeyRingProvider,
        metrics: ServerMetrics = ServerMetrics(),
        readiness: ServerReadiness = ServerReadiness(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.database = database
        self.keys = keys
        self.metrics = metrics
        self.readiness = readiness
        self.now = now
    }
}

/// Builds the Yongjun HTTP application: routes, the verification log service, and start-up work.
public func buildApplication(
    settings: ServerSettings,
    dependencies: ServerDependencies,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let metrics = dependencies.metrics
    let log = VerificationLog(database: dependencies.database, logger: logger) { duration, records in
        metrics.recordCommit(duration: duration, records: records)
    }
    let service = VerificationService(
        database: dependencies.database,
        log: log,
        keys: dependencies.keys,
        settings: settings,
        metrics: metrics,
        now: dependencies.now
    )
    let pinHashes = PINHashPool(threads: settings.pinHashThreads, queueLimit: settings.pinHashQueue)
    let readiness = dependencies.readiness
    let statusList = StatusListPublisher(database: dependencies.database, keys: dependencies.keys, settings: settings)
    var app = Application(
        router: buildRouter(service: service, pinHashes: pinHashes, dependencies: dependencies, settings: settings, statusList: statusList),
        server: try serverBuilder(settings, connections: metrics.connections),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
        services: [log, pinHashes, HistoryIndexer(database: dependencies.database, logger: logger)],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? settings.port
            await statusList.announce(port: port, logger: logger)
            readiness.set(true)
            await onServerRunning(port)
        },
        logger: logger
    )
    app.beforeServerStarts {
        try await service.restoreMemory()
    }
    return app
}

/// HTTP/1.1, wrapped in TLS when a certificate and key are configured, behind the connection limits.
func serverBuilder(_ settings: ServerSettings, connections: OpenConnections) throws -> HTTPServerBuilder {
    let limits = ConnectionLimits(
        readTimeout: .seconds(Int64(settings.readTimeout)),
        idleTimeout: .seconds(Int64(settings.idleTimeout)),
        maxConnections: settings.maxConnections
    )
    let http = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestEndMarker()], idleTimeout: limits.idleTimeout)
    guard let certificate = settings.tlsCertificate, let key = settings.tlsKey else {
        return HTTPServerBuilder { responder in
            GuardedChannel(base: HTTP1Channel(responder: responder, configuration: http), limits: limits, open: connections)
        }
    }
    let tls = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
    )
    return HTTPServerBuilder { responder in
        GuardedChannel(
            base: try TLSChannel(HTTP1Channel(responder: responder, configuration: http), tlsConfiguration: tls),
            limits: limits,
            open: connections
        )
    }
}

/// Templates are compiled into the binary and parsed once.
let pageLibrary: MustacheLibrary = {
    do {
        return try Templates.library()
    } catch {
        fatalError("a built-in page template does not parse: \(error)")
    }
}()

/// The routes; tests call this too.
func buildRouter(
    service: VerificationService,
    pinHashes: PINHashPool,
    dependencies: ServerDependencies,
    settings: ServerSettings,
    statusList: StatusListPublisher? = nil
) -> Router<AppRequestContext> {
    let statusList = statusList ?? StatusListPublisher(database: dependencies.database, keys: dependencies.keys, settings: settings)
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware(metrics: dependencies.metrics))
    router.add(middleware: StoreUnreachableMiddleware())
    HealthController(database: dependencies.database, keys: dependencies.keys, readiness: dependencies.readiness).add(to: router)
    router.addRoutes(WellKnownController(keys: dependencies.keys).endpoints, atPath: "/.well-known")
    let verifications = router.group("/api/v1/verifications")
    if settings.rateLimit > 0 {
        verifications.add(
            middleware: RateLimitMiddleware(limiter: RateLimiter(perSecond: settings.rateLimit), trustedProxies: Set(settings.trustedProxies))
        )
    }
    verifications.addRoutes(VerificationController(service: service, maximumBodySize: settings.maximumBodySize).endpoints)
    let database = dependencies.database
    let issuing = CodeIssuing(keys: dependencies.keys, verification: service, settings: settings, statusList: statusList)
    let cookies = CookiePolicy(tlsEnabled: settings.tlsEnabled, trustedProxies: Set(settings.trustedProxies))
    let forms = FormRateLimit(perMinute: settings.formRateLimit, trustedProxies: Set(settings.trustedProxies))
    let signIn = HolderSignIn(database: database, pool: pinHashes, rounds: settings.pinHashRounds, sessionLifetime: settings.holderSessionLifetime)
    HolderController(database: database, codes: issuing, signIn: signIn, cookies: cookies, sessionLifetime: settings.holderSessionLifetime)
        .add(to: router, limiter: forms.middleware)
    DirectoryController(database: database).add(to: router)
    ShopDevicesController(database: database).add(to: router)
    OfflineController(database: database, keys: dependencies.keys, statusList: statusList, service: service, settings: settings).add(to: router)
    let history = HistoryController(database: database, keys: dependencies.keys, issuer: settings.issuer)
    history.add(to: router)
    let renderer = PageRenderer(library: pageLibrary, cookies: cookies)
    CardPages(database: database, codes: issuing, signIn: signIn, renderer: renderer, limiter: forms, sessionLifetime: settings.holderSessionLifetime)
        .add(to: router)
    ShopPages(database: database, service: service, renderer: renderer, limiter: forms).add(to: router)
    PublicPages(database: database, renderer: renderer, trustedProxies: Set(settings.trustedProxies)).add(to: router)
    HistoryPages(database: database, history: history, renderer: renderer).add(to: router)
    OpenAPIController().add(to: router)
    return router
}

/// The admin listener: `/metrics` (Prometheus text), `/healthz`, `/readyz`. Keep it on loopback or behind a token.
public func buildAdminApplication(
    settings: ServerSettings,
    dependencies: ServerDependencies,
    logger: Logger,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    HealthController(database: dependencies.database, keys: dependencies.keys, readiness: dependencies.readiness).add(to: router)
    let metrics = dependencies.metrics
    let token = settings.metricsToken
    router.get("/metrics") { request, _ -> Response in
        if let token {
            let presented = VerificationController.bearerToken(request.headers[.authorization]) ?? ""
            guard ConstantTime.equal(Array(presented.utf8), Array(token.utf8)) else {
                throw APIError(status: .unauthorized, code: "unauthorized", message: "metrics require the configured bearer token")
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
        )
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(settings.adminHost, port: settings.adminPort ?? 0), serverName: nil),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
        logger: logger
    )
}
