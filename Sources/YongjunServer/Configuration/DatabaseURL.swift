import Foundation

/// The `database_url` setting's address with its password replaced by `********`, for anything that prints it:
/// `postgres://yongjun:********@db.example:5432/yongjun`. A `password=` query parameter is hidden too.
/// Works on malformed input as well (an error message must not leak the password of a mistyped address): when unsure
/// where the password ends, it hides more rather than less.
public func redactedDatabaseURL(_ url: String) -> String {
    let afterScheme = url.range(of: "://")?.upperBound ?? url.startIndex
    var shown = String(url[..<afterScheme])
    var rest = url[afterScheme...]
    // The last @ ends the user info: an unencoded @ in a password then stays hidden.
    if let at = rest.lastIndex(of: "@") {
        let userInfo = rest[..<at]
        if let colon = userInfo.firstIndex(of: ":"), userInfo.index(after: colon) < userInfo.endIndex {
            shown += userInfo[...colon] + "********"
        } else {
            shown += userInfo
        }
        shown += "@"
        rest = rest[rest.index(after: at)...]
    }
    guard let question = rest.firstIndex(of: "?") else { return shown + rest }
    let parameters = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter in
        parameter.lowercased().hasPrefix("password=") ? parameter.prefix("password=".count) + "********" : parameter
    }
    return shown + rest[...question] + parameters.joined(separator: "&")
}

/// Checks a non-empty `database_url`: `postgres://` or `postgresql://`, a database name after the host, a valid port.
/// The message names the setting and shows the expected shape; it never repeats the value (the caller shows it redacted).
func validateDatabaseURL(_ value: String) throws {
    let shape = "postgres://USER:PASSWORD@HOST:5432/DATABASE"
    let scheme = value.range(of: "://").map { value[..<$0.lowerBound].lowercased() }
    guard scheme == "postgres" || scheme == "postgresql" else {
        throw SettingsError(
            description: "database_url must start with postgres:// or postgresql:// (\(shape)), or be empty for the embedded SQLite store"
        )
    }
    guard let components = URLComponents(string: value) else {
        throw SettingsError(
            description: "database_url is not a valid address (\(shape)); percent-encode @ : / ? # in the user name and password (%40 for @)"
        )
    }
    if let port = components.port, !(1...65535).contains(port) {
        throw SettingsError(description: "database_url port must be a whole number from 1 to 65535")
    }
    let database = components.percentEncodedPath.dropFirst()
    guard components.percentEncodedPath.hasPrefix("/"), !database.isEmpty, !database.contains("/") else {
        throw SettingsError(description: "database_url must name the database after the host: \(shape)")
    }
}
