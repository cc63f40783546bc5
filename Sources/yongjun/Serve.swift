import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle
import UnixSignals
import YongjunCore
import YongjunPostgres
import YongjunServer
import YongjunStorage

/// `yongjun serve`: the HTTP service shops and holders talk to, plus the admin listener for metrics and health.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service (verification API, JWKS) and the admin listener (/metrics, /healthz, /readyz).",
        discussion: """
            Settings come from flags, then YONGJUN_* environment variables, then the config file (--config or
            YONGJUN_CONFIG), then defaults; `yongjun config show` prints the result. SIGTERM or SIGINT stops
            accepting, finishes requests in flight (for at most drain_timeout seconds, then cuts them off and says
            how many), commits their records, and exits. A port that cannot be bound stops start-up with exit 1
            and names the setting.

            Example: yongjun --data-dir /var/lib/yongjun serve --host 0.0.0.0 --port 8080 --config /etc/yongjun/yongjun.conf
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var server: ServerFlags

    func run() async throws {
        let (settings, _) = try server.resolve(global: global)
        var logger = Logger(label: "yongjun")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        let directory = DataDirectory(path: settings.dataDirectory)
        // Keys first: a data directory without them is refused before anything is created in it.
        let keys = try KeyRingProvider(store: KeyStore(directory: directory), issuer: settings.issuer, now: Date())
        // The data directory is this instance's own (its keys, its lock); the records live in the store it names.
        guard let lock = ServeLock.acquire(directory) else {
            throw CLIFailure(message: "another yongjun server is already running on \(directory.path)")
        }
        defer { lock.release() }
        let (database, storeServices, audited) = try await openStore(settings, directory: directory, logger: logger)
        raiseOpenFileLimit()
        for kid in keys.keyRing.keys.map(\.kid) where !audited.contains(kid) {
            // A key file nobody recorded could have been planted; the bureau must look before trusting its codes.
            logger.warning(
                "signing key \(kid) has no `keys init`/`keys rotate` entry in the audit log; check it with `yongjun audit verify`"
            )
        }
        let dependencies = ServerDependencies(database: database, keys: keys)
        let scheme = settings.tlsEnabled ? "https" : "http"
        let app = try buildApplication(settings: settings, dependencies: dependencies, logger: logger) { port in
            announce("yongjun: serving on \(scheme)://\(settings.host):\(port) (data: \(settings.dataDirectory))")
        }
        // The store's own services come first: the service group stops them last, after the verification log drained.
        var services: [any Service] =
            storeServices + [
                DrainReporter(metrics: dependencies.metrics, drainTimeout: settings.drainTimeout, logger: logger),
                Listener(app, setting: "port", host: settings.host, port: settings.port, readiness: dependencies.readiness),
            ]
        if let adminPort = settings.adminPort {
            let admin = buildAdminApplication(settings: settings, dependencies: dependencies, logger: logger) { port in
                announce("yongjun: admin (metrics, health) on http://\(settings.adminHost):\(port)")
            }
            services.insert(
                Listener(admin, setting: "admin_port", host: settings.adminHost, port: adminPort, readiness: nil),
                at: storeServices.count + 1
            )
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(settings.drainTimeout)
        // Only reached if something ignores cancellation; better a crash with a report than a process that never stops.
        configuration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// The store `settings` name: PostgreSQL (migrated now; its connection pool is a service to run) when `database_url`
/// is set, else the SQLite file in the data directory; and the signing key ids its audit log records.
func openStore(_ settings: ServerSettings, directory: DataDirectory, logger: Logger) async throws -> (any Store, [any Service], Set<String>) {
    guard let databaseURL = settings.databaseURL else {
        let database = try AppDatabase.open(in: directory)
        return (database, [], try database.auditedSigningKeyIDs())
    }
    let url = try PostgresURL(databaseURL)
    try await url.checkReachable(logger: logger)
    // Before the service group runs the pool for good, a pool of its own for the migration and the key check.
    let audited = try await PostgresClient.withRunning(url.configuration, logger: logger) { client in
        try await PostgresMigrator().migrate(client, logger: logger)
        return try await PostgresStore(client: client, logger: logger).auditedSigningKeyIDs()
    }
    let client = PostgresClient(configuration: url.configuration, backgroundLogger: logger)
    return (PostgresRouteStore(PostgresStore(client: client, logger: logger)), [client], audited)
}

/// A start-up line on stdout, flushed at once (scripts wait for it).
func announce(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Flags of `serve` and `config show`; each one may also come from YONGJUN_<NAME> or the config file.
struct ServerFlags: ParsableArguments {
    @Option(help: "Config file of `key = value` lines (env YONGJUN_CONFIG).") var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one and prints it (default 8080).") var port: String?
    @Option(help: "Seconds a phone code stays valid (default 180).") var codeLifetime: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).") var logLevel: String?
    @Option(help: "PEM certificate chain: serve HTTPS (with --tls-key).") var tlsCertificate: String?
    @Option(help: "PEM private key for --tls-certificate.") var tlsKey: String?
    @Option(help: "Comma-separated reverse-proxy addresses whose X-Forwarded-For is believed.") var trustedProxy: String?
    @Option(help: "Verification requests per second per client address; 0 = off (default 100).") var rateLimit: String?
    @Option(help: "Address of the admin listener (default 127.0.0.1).") var adminHost: String?
    @Option(help: "Port of the admin listener; off = none, 0 picks one (default 9090).") var adminPort: String?
    @Option(help: "Sign-in and form posts per minute per client address; 0 = off (default 30).") var formRateLimit: String?
    @Option(help: "Unknown 9-digit codes one shop may send in 10 minutes (default 10).") var shortCodeGuessLimit: String?
    @Option(help: "Unknown 9-digit codes all shops together may send in 10 minutes (default 200).") var shortCodeGlobalGuessLimit: String?
    @Option(help: "Seconds a client has to send a whole request once started (default 10).") var readTimeout: String?
    @Option(help: "Seconds an idle keep-alive connection stays open (default 60).") var idleTimeout: String?
    @Option(help: "Open connections at most; more get 503 at once (default 4096).") var maxConnections: String?
    @Option(help: "Seconds SIGTERM waits for requests in flight (default 10).") var drainTimeout: String?
    @Option(help: "PIN hashes computed at once (default 1).") var pinHashThreads: String?
    @Option(help: "Sign-ins that may wait for a PIN hash; more get 503 (default 64).") var pinHashQueue: String?
    @Option(help: "Address the service is reached at, e.g. https://yongjun.example.cn (default http://host:port).") var publicUrl: String?
    @Option(help: "Seconds a status list is served before it is rebuilt: the longest a revocation waits (default 300).")
    var statusListTtl: String?
    @Option(help: "Seconds a shop device may verify offline after a sync (default 86400).") var offlineMaxAge: String?
    @Option(help: .hidden) var databaseUrl: String?

    func resolve(global: GlobalOptions) throws -> (ServerSettings, [SettingsLoader.Resolved]) {
        var flags: [String: String] = [:]
        let pairs: [(String, String?)] = [
            ("host", host), ("port", port), ("code_lifetime", codeLifetime), ("log_level", logLevel), ("tls_certificate", tlsCertificate),
            ("tls_key", tlsKey), ("trusted_proxy", trustedProxy), ("rate_limit", rateLimit), ("admin_host", adminHost),
            ("admin_port", adminPort), ("data_dir", global.dataDir), ("form_rate_limit", formRateLimit),
            ("short_code_guess_limit", shortCodeGuessLimit), ("short_code_global_guess_limit", shortCodeGlobalGuessLimit),
            ("read_timeout", readTimeout), ("idle_timeout", idleTimeout), ("max_connections", maxConnections),
            ("drain_timeout", drainTimeout), ("pin_hash_threads", pinHashThreads), ("pin_hash_queue", pinHashQueue),
            ("public_url", publicUrl), ("status_list_ttl", statusListTtl), ("offline_max_age", offlineMaxAge),
            // --database is a global option (other commands name the store too); --database-url is its other spelling.
            ("database_url", global.database ?? databaseUrl),
        ]
        for case let (key, value?) in pairs { flags[key] = value }
        let flagNames = global.database == nil && databaseUrl != nil ? ["database_url": "--database-url"] : [:]
        let environment = ProcessInfo.processInfo.environment
        var file: ConfigFileProvider?
        if let path = config ?? environment["YONGJUN_CONFIG"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIFailure(message: "cannot read config file \(path)")
            }
            file = try ConfigFileProvider(text: String(decoding: data, as: UTF8.self), path: path)
        }
        return try SettingsLoader.resolve(flags: flags, flagNames: flagNames, environment: environment, file: file)
    }
}
