import Foundation
import PostgresNIO
import YongjunCore

/// Where the shared PostgreSQL store lives, as a libpq-style URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir]`.
/// `postgresql://` is accepted too; the port defaults to 5432, the database to the user's name, `sslmode` to `prefer`.
/// `host=/dir` (or an empty host part plus `host=`) connects through the unix socket `/dir/.s.PGSQL.PORT`.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// TLS on a TCP connection: never, when the server offers it, or always (refusing a server without it).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
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
        database = components.database ?? components.user
        sslMode = components.sslMode
        if let socket = components.socketDirectory {
            guard socket.hasPrefix("/") else { throw PostgresURLError.socketNotAbsolute(socket) }
            guard sslMode != .require else { throw PostgresURLError.tlsOnSocket }
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

    /// The client configuration for this URL (TLS with the system's trust roots when `prefer` or `require`).
    public var configuration: PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)",
                username: user,
                password: password,
                database: database
            )
        }
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
        return PostgresClient.Configuration(host: host ?? "", port: port, username: user, password: password, database: database, tls: tls)
    }
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
    public let description: String

    private init(_ problem: String) {
        description = "bad PostgreSQL URL: \(problem); expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]"
    }

    static let scheme = PostgresURLError("it must start with postgres:// or postgresql://")
    static let noUser = PostgresURLError("no user name (USER@ before the host)")
    static let noHost = PostgresURLError("no host (give HOST, or ?host=/socket/dir for a unix socket)")
    static let tlsOnSocket = PostgresURLError("sslmode=require cannot apply to a unix socket (?host=); drop one of them")

    static func badPort(_ port: String) -> PostgresURLError {
        PostgresURLError("port '\(port)' is not a number from 1 to 65535")
    }

    static func badHost(_ host: String) -> PostgresURLError {
        PostgresURLError("host '\(host)' is not a name, an IPv4 address or an [IPv6] address")
    }

    static func badSSLMode(_ mode: String) -> PostgresURLError {
        PostgresURLError("sslmode '\(mode)' is not one of \(PostgresURL.SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
    }

    static func socketNotAbsolute(_ folder: String) -> PostgresURLError {
        PostgresURLError("host '\(folder)' in the query must be the absolute path of the server's socket folder")
    }

    static func unknownParameter(_ name: String) -> PostgresURLError {
        PostgresURLError("unknown parameter '\(name)' (only sslmode and host are understood)")
    }

    static func badEscape(_ part: String) -> PostgresURLError {
        PostgresURLError("the \(part) holds a broken %-escape")
    }
}
