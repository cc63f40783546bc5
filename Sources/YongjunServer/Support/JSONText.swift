/// Builds small JSON objects by hand, in a fixed key order, without an encoder on the hot path.
struct JSONText {
    private var text = "{"

    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        separate(key)
        text += "\""
        Self.escape(value, into: &text)
        text += "\""
    }

    mutating func add(_ key: String, _ value: Bool) {
        separate(key)
        text += value ? "true" : "false"
    }

    private mutating func separate(_ key: String) {
        if text.utf8.count > 1 { text += "," }
        text += "\"\(key)\":"
    }

    var string: String { text + "}" }

    static func escape(_ value: String, into output: inout String) {
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                output += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
    }
}
