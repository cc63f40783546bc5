import Foundation
import YongjunCore

/// How the server runs; every value has a default that suits a single city bureau.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
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

    public init() {}
}
