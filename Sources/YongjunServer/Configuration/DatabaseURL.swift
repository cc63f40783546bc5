import Foundation
import YongjunCore

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

/// Checks a non-empty `database_url` with the store's own parser (`PostgresURL`), so that `config show` accepts what
/// `serve` can connect with and nothing else. The message names the setting and shows the expected shape; it never
/// repeats the value (the caller shows it redacted).
func validateDatabaseURL(_ value: String) throws {
    do {
        _ = try PostgresURL(value)
    } catch let error as PostgresURLError {
        let shape = "postgres://USER:PASSWORD@HOST:5432/DATABASE"
        throw SettingsError(description: "database_url \(error.problem); write it as \(shape), or leave it empty for the embedded SQLite store")
    }
}
