import Configuration
import Foundation

/// The config file as a swift-configuration provider. The format is the bureau's own (`key = value` lines, `#`
/// comments), not JSON or YAML, so the file providers of swift-configuration do not read it.
public struct ConfigFileProvider: Sendable {
    /// The file's path, as messages name it (`port in /etc/yongjun/yongjun.conf=…`).
    public let path: String
    let values: [String: String]

    /// Parses `text`, the contents of the file at `path`; a line that is not a known `key = value` is an error naming it.
    public init(text: String, path: String) throws {
        self.path = path
        self.values = try Self.parse(text, name: path)
    }

    private init(path: String, values: [String: String]) {
        self.path = path
        self.values = values
    }

    /// No config file: it answers no key.
    static let empty = ConfigFileProvider(path: "no config file", values: [:])

    /// Reads `key = value` lines; `#` starts a comment outside double quotes; values may be quoted (a `#` inside the
    /// quotes belongs to the value: `metrics_token = "a#b"`). Unknown keys and unterminated quotes are errors.
    static func parse(_ text: String, name: String) throws -> [String: String] {
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
            guard SettingDefinition.named[key] != nil else {
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

// The file is read once at start-up and never changes underneath, so the provider is its own snapshot.
extension ConfigFileProvider: ConfigProvider, ConfigSnapshot {
    /// Names the file in swift-configuration's access reports.
    public var providerName: String { "ConfigFileProvider[\(path)]" }

    /// The file's text for `key` (a setting name such as `port`); settings are parsed by `SettingDefinition`, so only
    /// strings are offered.
    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let name = key.components.joined(separator: ".")
        guard let text = values[name] else { return LookupResult(encodedKey: name, value: nil) }
        guard type == .string else {
            throw SettingsError(description: "\(name) in \(path) is read as text, not as \(type.rawValue)")
        }
        let secret = SettingDefinition.named[name]?.secret ?? true
        return LookupResult(encodedKey: name, value: ConfigValue(.string(text), isSecret: secret))
    }

    /// The same as `value(forKey:type:)`: the file was read at start-up.
    public func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    /// The value once; the file is not watched.
    nonisolated(nonsending) public func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey,
        type: ConfigType,
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    /// The provider itself: its values never change.
    public func snapshot() -> any ConfigSnapshot { self }

    /// The one snapshot; the file is not watched.
    nonisolated(nonsending) public func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
