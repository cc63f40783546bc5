import Foundation
import YongjunCore

/// Where a setting's value came from, for `yongjun config show`.
public enum SettingSource: String, Sendable {
    case flag
    case environment
    case file
    case `default`
}

/// A bad setting: which one, from where, and what is accepted.
public struct SettingsError: UserFacingError, Sendable {
    public let description: String
}

/// Resolves `ServerSettings` from flags, then `YONGJUN_*` environment variables, then a config file, then defaults.
public enum SettingsLoader {
    /// One effective setting, for display.
    public struct Resolved: Sendable {
        public let key: String
        public let value: String
        public let source: SettingSource
    }

    /// `flags` and `file` are keyed by setting name (`port`), `environment` by variable (`YONGJUN_PORT`).
    public static func resolve(
        flags: [String: String],
        environment: [String: String],
        file: [String: String],
        fileName: String = "config file"
    ) throws -> (settings: ServerSettings, resolved: [Resolved]) {
        var settings = ServerSettings()
        var resolved: [Resolved] = []
        for definition in SettingDefinition.all {
            let candidates: [(String?, SettingSource, String)] = [
                (flags[definition.key], .flag, "--\(definition.key.replacingOccurrences(of: "_", with: "-"))"),
                (environment[definition.environmentName], .environment, definition.environmentName),
                (file[definition.key], .file, "\(definition.key) in \(fileName)"),
            ]
            var source = SettingSource.default
            if let (value, from, origin) = candidates.first(where: { $0.0 != nil }).map({ ($0.0!, $0.1, $0.2) }) {
                do {
                    try definition.apply(&settings, value)
                } catch let error as SettingsError {
                    throw SettingsError(description: "\(origin)=\(definition.secret ? "…" : value): \(error.description)")
                }
                source = from
            }
            let shown = definition.secret ? (definition.read(settings).isEmpty ? "" : "******** (hidden)") : definition.read(settings)
            resolved.append(Resolved(key: definition.key, value: shown, source: source))
        }
        if (settings.tlsCertificate == nil) != (settings.tlsKey == nil) {
            throw SettingsError(description: "tls_certificate and tls_key go together: set both to serve HTTPS, or neither")
        }
        for (key, path) in [("tls_certificate", settings.tlsCertificate), ("tls_key", settings.tlsKey)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw SettingsError(description: "\(key) \(path) does not exist or cannot be read")
            }
        }
        return (settings, resolved)
    }

    /// Reads `key = value` lines; `#` starts a comment outside double quotes; values may be quoted (a `#` inside the
    /// quotes belongs to the value: `metrics_token = "a#b"`). Unknown keys and unterminated quotes are errors.
    public static func parseFile(_ text: String, name: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let (line, openQuote) = withoutComment(rawLine)
            if openQuote { throw SettingsError(description: "\(name) line \(index + 1): a quote is opened but not closed") }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw SettingsError(description: "\(name) line \(index + 1): expected key = value, found \"\(trimmed)\"")
            }
            let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            guard SettingDefinition.all.contains(where: { $0.key == key }) else {
                let known = SettingDefinition.all.map(\.key).joined(separator: ", ")
                throw SettingsError(description: "\(name) line \(index + 1): unknown setting \"\(key)\"; known settings: \(known)")
            }
            values[key] = value
        }
        return values
    }

    /// The line up to a `#` that is outside double quotes, and whether a quote was left open.
    static func withoutComment(_ line: Substring) -> (Substring, Bool) {
        var quoted = false
        for index in line.indices {
            if line[index] == "\"" {
                quoted.toggle()
            } else if line[index] == "#", !quoted {
                return (line[..<index], false)
            }
        }
        return (line, quoted)
    }
}
