import Foundation
import Logging

/// One setting: its name in flags and files, its environment variable, how to parse it, and whether it is secret.
/// `SettingDefinition.all` is the one list of settings; flags, `YONGJUN_*` names and file keys all follow from it.
struct SettingDefinition: Sendable {
    let key: String
    /// `--port`; by default the key with dashes.
    let flag: String
    /// `YONGJUN_PORT`; by default `YONGJUN_` and the key in capitals.
    let environmentName: String
    let help: String
    /// Kept out of `config show`, error messages and swift-configuration's access reports.
    let secret: Bool
    /// For a secret with harmless parts (a database address): the value with only its secret part hidden.
    let partlyShown: (@Sendable (String) -> String)?
    let apply: @Sendable (inout ServerSettings, String) throws -> Void
    let read: @Sendable (ServerSettings) -> String

    init(
        key: String,
        flag: String? = nil,
        environmentName: String? = nil,
        help: String,
        secret: Bool,
        partlyShown: (@Sendable (String) -> String)? = nil,
        apply: @escaping @Sendable (inout ServerSettings, String) throws -> Void,
        read: @escaping @Sendable (ServerSettings) -> String
    ) {
        self.key = key
        self.flag = flag ?? "--" + key.replacingOccurrences(of: "_", with: "-")
        self.environmentName = environmentName ?? "YONGJUN_" + key.uppercased()
        self.help = help
        self.secret = secret
        self.partlyShown = partlyShown
        self.apply = apply
        self.read = read
    }

    /// The settings by key.
    static let named = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// A value as `config show` prints it: secrets hidden, a database address without its password.
    func shown(_ value: String) -> String {
        if let partlyShown { return partlyShown(value) }
        return secret && !value.isEmpty ? "******** (hidden)" : value
    }

    /// A value as an error message quotes it.
    func quoted(_ value: String) -> String {
        if let partlyShown { return partlyShown(value) }
        return secret ? "…" : value
    }

    static let all: [SettingDefinition] = [
        text("host", "address to listen on", \.host),
        number("port", "port to listen on (0 picks one)", \.port, 0...65535),
        text("data_dir", "data directory (database and keys)", \.dataDirectory),
        number("code_lifetime", "seconds a phone code stays valid", \.codeLifetime, 10...86_400),
        SettingDefinition(
            key: "log_level",
            help: "trace, debug, info, notice, warning, error or critical",
            secret: false,
            apply: { settings, value in
                guard Logger.Level(rawValue: value) != nil else {
                    throw SettingsError(description: "log_level must be one of trace, debug, info, notice, warning, error, critical")
                }
                settings.logLevel = value
            },
            read: { $0.logLevel }
        ),
        optionalText("tls_certificate", "PEM certificate chain; with tls_key the server speaks HTTPS", \.tlsCertificate),
        optionalText("tls_key", "PEM private key for tls_certificate", \.tlsKey),
        SettingDefinition(
            key: "trusted_proxy",
            help: "comma-separated proxy addresses whose X-Forwarded-For is believed",
            secret: false,
            apply: { settings, value in
                settings.trustedProxies = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            },
            read: { $0.trustedProxies.joined(separator: ",") }
        ),
        number("rate_limit", "verification requests per second per client address (0 = off)", \.rateLimit, 0...1_000_000),
        number("form_rate_limit", "sign-in and form posts per minute per client address (0 = off)", \.formRateLimit, 0...1_000_000),
        number("short_code_guess_limit", "unknown 9-digit codes one shop may send in 10 minutes", \.shortCodeGuessLimit, 1...10_000),
        number(
            "short_code_global_guess_limit",
            "unknown 9-digit codes all shops together may send in 10 minutes",
            \.shortCodeGlobalGuessLimit,
            1...1_000_000
        ),
        number("read_timeout", "seconds a client has to send a whole request once started", \.readTimeout, 1...3600),
        number("idle_timeout", "seconds an idle keep-alive connection stays open", \.idleTimeout, 1...86_400),
        number("max_connections", "open connections at most; more are refused with 503", \.maxConnections, 1...1_000_000),
        number("drain_timeout", "seconds SIGTERM waits for requests in flight", \.drainTimeout, 0...3600),
        number("pin_hash_threads", "PIN hashes computed at once (a thread each)", \.pinHashThreads, 1...64),
        number("pin_hash_queue", "sign-ins that may wait for a PIN hash; more get 503 at once", \.pinHashQueue, 0...100_000),
        SettingDefinition(
            key: "public_url",
            help: "address the service is reached at (https://…); codes name the status list under it",
            secret: false,
            apply: { settings, value in
                guard !value.isEmpty else {
                    settings.publicURL = nil
                    return
                }
                guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.query == nil else {
                    throw SettingsError(description: "public_url must be an http:// or https:// address such as https://yongjun.example.cn")
                }
                settings.publicURL = value
            },
            read: { $0.publicURL ?? "" }
        ),
        number(
            "status_list_ttl",
            "seconds a status list is served before it is rebuilt (longest delay of a revocation)",
            \.statusListTTL,
            1...86_400
        ),
        number("offline_max_age", "seconds a shop device may verify offline after a sync", \.offlineMaxAge, 60...30 * 86_400),
        text("admin_host", "address of the admin listener (metrics, health)", \.adminHost),
        SettingDefinition(
            key: "admin_port",
            help: "port of the admin listener (off = none, 0 picks one)",
            secret: false,
            apply: { settings, value in
                if value == "off" {
                    settings.adminPort = nil
                } else if let port = Int(value), (0...65535).contains(port) {
                    settings.adminPort = port
                } else {
                    throw SettingsError(description: "admin_port must be off or a whole number from 0 to 65535")
                }
            },
            read: { $0.adminPort.map(String.init) ?? "off" }
        ),
        SettingDefinition(
            key: "metrics_token",
            help: "bearer token required for /metrics",
            secret: true,
            apply: { settings, value in settings.metricsToken = value.isEmpty ? nil : value },
            read: { $0.metricsToken ?? "" }
        ),
        SettingDefinition(
            key: "database_url",
            flag: "--database",
            environmentName: "YONGJUN_DATABASE",
            help: "PostgreSQL store, postgres://USER:PASSWORD@HOST:5432/DATABASE; empty = the embedded SQLite store",
            secret: true,
            partlyShown: redactedDatabaseURL,
            apply: { settings, value in
                if !value.isEmpty { try validateDatabaseURL(value) }
                settings.databaseURL = value.isEmpty ? nil : value
            },
            read: { $0.databaseURL ?? "" }
        ),
    ]
}
