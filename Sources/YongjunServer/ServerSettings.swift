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

    /// PBKDF2 rounds for holder PINs (tests lower it; production keeps the default).
    public var pinHashRounds = 120_000
    /// Seconds a holder stays signed in.
    public var holderSessionLifetime = 1800

    public init() {}

    public var tlsEnabled: Bool { tlsCertificate != nil && tlsKey != nil }
}
