import Foundation

/// Where the shared PostgreSQL store lives, as a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full][&host=/socket/dir]`.
/// `postgresql://` is accepted too; the port defaults to 5432, `sslmode` to `prefer`; the database must be named.
/// `host=/dir` (or an empty host part plus `host=`) connects through the unix socket `/dir/.s.PGSQL.PORT`; a
/// `password=` parameter is taken as libpq takes it. The one parser of the address: the `database_url` setting is
/// checked with it, and the PostgreSQL store connects with what it found (YongjunPostgres, `configuration`).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// TLS on a TCP connection: never, when the server offers it, or always (refusing a server without it). When TLS
    /// is used the server's certificate and host name are always checked against the system's trust roots, so
    /// `require` is as strict as libpq's `verify-full`, which is accepted as the same thing.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyFull = "verify-full"

        /// Whether a connection without TLS is refused.
        public var requiresTLS: Bool { self == .require || self == .verifyFull }
    }

    public let user: String
    public let password: String?
    /// A host name or IP address; nil when connecting through a unix socket.
    public let host: String?
    public let port: Int
    public let database: String
    /// The folder holding the server's unix socket (`?host=/dir`), if any.
    public let socketDirectory: String?
    public let sslMode: SSLMode

    /// Parses `text`; the error says which part is wrong, never quoting the password.
    public init(_ text: String) throws {
        let components = try Self.split(text)
        user = components.user
        password = components.password
        port = components.port
        guard let database = components.database else { throw PostgresURLError.noDatabase }
        self.database = database
        sslMode = components.sslMode
        if let socket = components.socketDirectory {
            guard socket.hasPrefix("/") else { throw PostgresURLError.socketNotAbsolute(socket) }
            guard !sslMode.requiresTLS else { throw PostgresURLError.tlsOnSocket }
            socketDirectory = socket
            host = nil
        } else {
            guard let host = components.host, !host.isEmpty else { throw PostgresURLError.noHost }
            self.host = host
            socketDirectory = nil
        }
    }

    /// The URL with the password replaced by `********` (as `config show` prints it): safe for logs, errors and output.
    public var redacted: String {
        let credentials = Self.escape(user) + (password == nil ? "" : ":********")
        let hostPart = host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? ""
        var query: [String] = []
        if let socketDirectory { query.append("host=\(socketDirectory)") }
        if sslMode != .prefer { query.append("sslmode=\(sslMode.rawValue)") }
        return "postgres://\(credentials)@\(hostPart):\(port)/\(Self.escape(database))" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// Never the password: a URL printed by mistake is still safe.
    public var description: String { redacted }
}

extension PostgresURL {
    private struct Components {
        var user = ""
        var password: String?
        var host: String?
        var port = 5432
        var database: String?
        var socketDirectory: String?
        var sslMode = SSLMode.prefer
        /// `?password=`: taken over one in the user part, as libpq does.
        var queryPassword: String?
    }

    private static func split(_ text: String) throws -> Components {
        guard let schemeEnd = text.range(of: "://"), ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound].lowercased())
        else { throw PostgresURLError.scheme }
        var rest = Substring(text[schemeEnd.upperBound...])
        var components = Components()
        if let questionMark = rest.firstIndex(of: "?") {
            try parseQuery(rest[rest.index(after: questionMark)...], into: &components)
            rest = rest[..<questionMark]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let name = try decode(rest[rest.index(after: slash)...], part: "database")
            components.database = name.isEmpty ? nil : name
        }
        // The password may itself hold '@' if it was not percent-encoded: the last '@' ends the credentials.
        guard let at = authority.lastIndex(of: "@") else { throw PostgresURLError.noUser }
        let credentials = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            components.user = try decode(credentials[..<colon], part: "user")
            components.password = try decode(credentials[credentials.index(after: colon)...], part: "password")
        } else {
            components.user = try decode(credentials, part: "user")
        }
        guard !components.user.isEmpty else { throw PostgresURLError.noUser }
        try parseHostPort(hostPort, into: &components)
        if let password = components.queryPassword { components.password = password }
        return components
    }

    private static func parseHostPort(_ text: Substring, into components: inout Components) throws {
        var hostText = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw PostgresURLError.badHost(String(text)) }
            hostText = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw PostgresURLError.badHost(String(text)) }
        } else if let colon = text.firstIndex(of: ":") {
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { throw PostgresURLError.badPort(String(portText)) }
            components.port = port
        }
        if !hostText.isEmpty { components.host = try decode(hostText, part: "host") }
    }

    private static func parseQuery(_ query: Substring, into components: inout Components) throws {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0], part: "parameter name")
            let value = parts.count > 1 ? try decode(parts[1], part: name) : ""
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else { throw PostgresURLError.badSSLMode(value) }
                components.sslMode = mode
            case "host":
                components.socketDirectory = value
            case "password":
                components.queryPassword = value
            default:
                throw PostgresURLError.unknownParameter(name)
            }
        }
    }

    private static func decode(_ text: Substring, part: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else { throw PostgresURLError.badEscape(part) }
        return decoded
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A PostgreSQL URL that cannot be used, and how to write it instead. Never quotes the password.
public struct PostgresURLError: UserFacingError, Sendable, Equatable {
    /// What is wrong, read after the name of what holds the URL ("database_url must name the database …").
    public let problem: String
    public var description: String {
        "PostgreSQL URL \(problem); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require|verify-full]"
    }

    private init(_ problem: String) {
        self.problem = problem
    }

    static let scheme = PostgresURLError("must start with postgres:// or postgresql://")
    static let noUser = PostgresURLError("has no user name (USER@ before the host)")
    static let noHost = PostgresURLError("has no host (give HOST, or ?host=/socket/dir for a unix socket)")
    static let noDatabase = PostgresURLError("must name the database after the host")
    static let tlsOnSocket = PostgresURLError("cannot ask for TLS (sslmode=require or verify-full) on a unix socket (?host=); drop one of them")

    static func badPort(_ port: String) -> PostgresURLError {
        PostgresURLError("port '\(port)' is not a number from 1 to 65535")
    }

    static func badHost(_ host: String) -> PostgresURLError {
        PostgresURLError(
            "host '\(host)' is not a name, an IPv4 address or an [IPv6] address (percent-encode @ : / ? # in the user name and password: %40 for @)"
        )
    }

    static func badSSLMode(_ mode: String) -> PostgresURLError {
        PostgresURLError("sslmode '\(mode)' is not one of \(PostgresURL.SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    static func socketNotAbsolute(_ folder: String) -> PostgresURLError {
        PostgresURLError("host '\(folder)' in the query must be the absolute path of the server's socket folder")
    }

    static func unknownParameter(_ name: String) -> PostgresURLError {
        PostgresURLError("has an unknown parameter '\(name)' (only sslmode, host and password are understood)")
    }

    static func badEscape(_ part: String) -> PostgresURLError {
        PostgresURLError("has a broken %-escape in the \(part)")
    }
}
