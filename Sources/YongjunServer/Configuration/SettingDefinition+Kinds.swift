/// The common kinds of setting: required text, optional text, a whole number in a range.
extension SettingDefinition {
    static func text(_ key: String, _ help: String, _ path: any WritableKeyPath<ServerSettings, String> & Sendable) -> SettingDefinition {
        SettingDefinition(
            key: key,
            help: help,
            secret: false,
            apply: { settings, value in
                guard !value.isEmpty else { throw SettingsError(description: "\(key) must not be empty") }
                settings[keyPath: path] = value
            },
            read: { $0[keyPath: path] }
        )
    }

    static func optionalText(_ key: String, _ help: String, _ path: any WritableKeyPath<ServerSettings, String?> & Sendable) -> SettingDefinition {
        SettingDefinition(
            key: key,
            help: help,
            secret: false,
            apply: { settings, value in settings[keyPath: path] = value.isEmpty ? nil : value },
            read: { $0[keyPath: path] ?? "" }
        )
    }

    static func number(
        _ key: String,
        _ help: String,
        _ path: any WritableKeyPath<ServerSettings, Int> & Sendable,
        _ range: ClosedRange<Int>
    ) -> SettingDefinition {
        SettingDefinition(
            key: key,
            help: help,
            secret: false,
            apply: { settings, value in
                guard let number = Int(value), range.contains(number) else {
                    throw SettingsError(description: "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                settings[keyPath: path] = number
            },
            read: { String($0[keyPath: path]) }
        )
    }
}
