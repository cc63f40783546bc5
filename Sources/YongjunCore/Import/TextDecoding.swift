#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Character encodings the bureau's CSV files arrive in: UTF-8 (with or without BOM), or GB18030/GBK as
/// Excel on Chinese Windows saves "CSV (逗号分隔)".
public enum TextEncoding: String, CaseIterable, Sendable {
    case utf8 = "utf-8"
    /// GB18030, a superset of GBK and GB2312.
    case gb18030

    /// Accepts utf8, utf-8, gbk, gb2312, gb18030 (any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "utf8", "utf-8": self = .utf8
        case "gbk", "gb2312", "gb18030", "cp936": self = .gb18030
        default: return nil
        }
    }
}

/// Turns file bytes into text; pure conversion (glibc's iconv), no I/O.
public enum TextDecoding {
    /// Decodes with `encoding`, or detects: valid UTF-8 is UTF-8, anything else is tried as GB18030.
    public static func decode(_ bytes: [UInt8], as encoding: TextEncoding? = nil) -> (text: String, encoding: TextEncoding)? {
        switch encoding {
        case .utf8: return String(validating: bytes, as: UTF8.self).map { ($0, .utf8) }
        case .gb18030: return convert(bytes, from: "GB18030").map { ($0, .gb18030) }
        case nil: return decode(bytes, as: .utf8) ?? decode(bytes, as: .gb18030)
        }
    }

    /// One piece of a file streamed through: its UTF-8 bytes, or nil if it is not valid `encoding`. Cut pieces after a
    /// line feed: byte 0x0A never occurs inside a UTF-8 or GB18030 character, so no character is split.
    public static func utf8Bytes(_ piece: [UInt8], from encoding: TextEncoding) -> [UInt8]? {
        switch encoding {
        case .utf8: String(validating: piece, as: UTF8.self) == nil ? nil : piece
        case .gb18030: convertBytes(piece, from: "GB18030")
        }
    }

    /// Converts to UTF-8 with iconv; nil if any byte sequence is not valid in `source`.
    static func convert(_ bytes: [UInt8], from source: String) -> String? {
        convertBytes(bytes, from: source).flatMap { String(validating: $0, as: UTF8.self) }
    }

    static func convertBytes(_ bytes: [UInt8], from source: String) -> [UInt8]? {
        let converter = iconv_open("UTF-8", source)
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var input = bytes.map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 16)
        let converted: Int? = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                var inPointer = inputBuffer.baseAddress
                var inLeft = inputBuffer.count
                var outPointer = outputBuffer.baseAddress
                var outLeft = outputBuffer.count
                let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                guard result != -1, inLeft == 0 else { return nil }
                return outputBuffer.count - outLeft
            }
        }
        guard let converted else { return nil }
        return output.prefix(converted).map { UInt8(bitPattern: $0) }
    }
}
