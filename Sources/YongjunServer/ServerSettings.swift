import Foundation
import YongjunCore

/// How the server runs; every value has a default that suits a single city bureau.
/// `SettingsLoader` fills it from flags, `YONGJUN_*` variables and a config file, in that order of precedence.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory = "./data"
    /// `iss` of every code; codes from another issuer are refused as malformed.
    public var issuer = "yongjun"
    /// Seconds a phone code stays valid.
    public var codeLifetime = CodeIssuer.defaultLifetime
    /// Seconds of clock difference tolerated at both ends of a code's validity window.
    public var clockLeeway = 30
    /// Largest request body accepted on the API, in bytes.
    public var maximumBodySize = 16 * 1024
    /// How long a client nonce is remembered for idempotent retries.
    public var nonceRetention: TimeInterval = 24 * 3600
    public var logLevel = "info"
    /// PEM certificate chain and key; when both are set the server speaks HTTPS itself.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed for the client address.
    public var trustedProxies: [String] = []
    /// Verification requests per second allowed from one client address (0 turns the limit off).
    public var rateLimit = 100
    /// The admin listener for `/metrics`, `/healthz` and `/readyz`; nil turns it off, 0 picks a free port.
    public var adminHost = "127.0.0.1"
    public var adminPort: Int? = 9090
    /// When set, `/metrics` requires `Authorization: Bearer <token>`.
    public var metricsToken: String?

    /// Unknown 9-digit codes one shop may send in ten minutes, and all shops together.
    public var shortCodeGuessLimit = 10
    public var shortCodeGlobalGuessLimit = 200

    /// Seconds a client has to send a whole request (head and body) once it started; slow senders are cut off.
    public var readTimeout = 10
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout = 60
    /// Open connections at most; more are answered 503 and closed at once.
    public var maxConnections = 4096
    /// Seconds SIGTERM waits for requests in flight before cutting them off.
    public var drainTimeout = 10

    /// Sign-in and form posts a minute from one client address (holder API, /card, /shop, /apply).
    public var formRateLimit = 30
    /// PIN hashes computed at once, and sign-ins allowed to wait for one; beyond that the answer is 503 at once.
    public var pinHashThreads = 1
    public var pinHashQueue = 64

    /// PBKDF2 rounds for holder PINs (tests lower it; production keeps the default).
    public var pinHashRounds = 120_000
    /// Seconds a holder stays signed in.
    public var holderSessionLifetime = 1800
    /// The address holders and shops reach the service at (`https://yongjun.example.cn`); codes name the status list
    /// under it. nil: `http://host:port` as served.
    public var publicURL: String?
    /// Seconds a status list is served before it is rebuilt (and its `Cache-Control: max-age`): the longest a
    /// revocation waits to appear in it.
    public var statusListTTL = 300
    /// Seconds a shop device may verify offline after a sync.
    public var offlineMaxAge = 86_400
    /// The PostgreSQL store several instances share (`postgres://USER:PASSWORD@HOST:5432/DATABASE`, checked by
    /// `SettingsLoader`); nil: the embedded SQLite database in the data directory. It holds a password: print it
    /// through `redactedDatabaseURL(_:)`.
    public var databaseURL: String?

    public init() {}

    public var tlsEnabled: Bool { tlsCertificate != nil && tlsKey != nil }
}
