import Configuration
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
///
/// One swift-configuration provider per source, asked in that order by a `ConfigReader`; an access reporter records
/// which provider answered, and that is the setting's source. Values are read as text and parsed by their
/// `SettingDefinition`, so an error names the setting and the source it came from.
public enum SettingsLoader {
    /// One effective setting, for display.
    public struct Resolved: Sendable {
        public let key: String
        public let value: String
        public let source: SettingSource
    }

    /// `flags` is keyed by setting name (`port`), `environment` by variable (`YONGJUN_PORT`). `flagNames` names the
    /// flag a value came in by when it is not the setting's usual one (`--database-url` for `--database`).
    public static func resolve(
        flags: [String: String],
        flagNames: [String: String] = [:],
        environment: [String: String],
        file: ConfigFileProvider? = nil
    ) throws -> (settings: ServerSettings, resolved: [Resolved]) {
        let layers = providers(flags: flags, environment: environment, file: file)
        let recorder = AnsweringProviderRecorder()
        let reader = ConfigReader(providers: layers.map(\.provider), accessReporter: recorder)
        var settings = ServerSettings()
        var resolved: [Resolved] = []
        for definition in SettingDefinition.all {
            // The defaults provider answers every key, so a value is always there.
            let value = try reader.requiredString(forKey: ConfigKey([definition.key]), isSecret: definition.secret)
            let source = recorder.answer(for: definition.key).map { layers[$0].source } ?? .default
            do {
                try definition.apply(&settings, value)
            } catch let error as SettingsError {
                let origin =
                    switch source {
                    case .flag: flagNames[definition.key] ?? definition.flag
                    case .environment: definition.environmentName
                    case .file: "\(definition.key) in \(file?.path ?? "config file")"
                    case .default: "\(definition.key) (default)"
                    }
                throw SettingsError(description: "\(origin)=\(definition.quoted(value)): \(error.description)")
            }
            resolved.append(Resolved(key: definition.key, value: definition.shown(definition.read(settings)), source: source))
        }
        try checkTLS(settings)
        return (settings, resolved)
    }

    /// The providers in order of precedence, each with the source it stands for.
    static func providers(
        flags: [String: String],
        environment: [String: String],
        file: ConfigFileProvider?
    ) -> [(source: SettingSource, provider: any ConfigProvider)] {
        func inMemory(_ name: String, _ values: [String: String]) -> InMemoryProvider {
            let entries = values.compactMap { key, value in
                SettingDefinition.named[key].map { (AbsoluteConfigKey([key]), ConfigValue(.string(value), isSecret: $0.secret)) }
            }
            return InMemoryProvider(name: name, values: Dictionary(uniqueKeysWithValues: entries))
        }
        let secretVariables = Set(SettingDefinition.all.filter(\.secret).map(\.environmentName))
        let variables = EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretVariables))
            .mapKeys { key in AbsoluteConfigKey([SettingDefinition.named[key.description]?.environmentName ?? key.description]) }
        let defaults = ServerSettings()
        return [
            (.flag, inMemory("flags", flags)),
            (.environment, variables),
            (.file, file ?? ConfigFileProvider.empty),
            (.default, inMemory("defaults", Dictionary(uniqueKeysWithValues: SettingDefinition.all.map { ($0.key, $0.read(defaults)) }))),
        ]
    }

    /// A certificate without its key (or the reverse) or a file that cannot be read stops start-up.
    static func checkTLS(_ settings: ServerSettings) throws {
        if (settings.tlsCertificate == nil) != (settings.tlsKey == nil) {
            throw SettingsError(description: "tls_certificate and tls_key go together: set both to serve HTTPS, or neither")
        }
        for (key, path) in [("tls_certificate", settings.tlsCertificate), ("tls_key", settings.tlsKey)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw SettingsError(description: "\(key) \(path) does not exist or cannot be read")
            }
        }
    }
}
