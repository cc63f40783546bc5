import Foundation

/// Reads `{"code": "…", "nonce": "…"}` without a general JSON decoder when the body has the plain shape a
/// till sends (ASCII strings without escapes); anything else goes to `JSONDecoder`, so both accept the same JSON.
public enum VerifyRequestParser {
    /// The request body: the code to check and the till's optional idempotency nonce.
    public struct Body: Decodable, Equatable, Sendable {
        public let code: String
        public let nonce: String?
    }

    /// The body, read by the fast path when it can and by `JSONDecoder` otherwise; nil when it is not that JSON.
    public static func parse(_ bytes: some Collection<UInt8>) -> Body? {
        let bytes = Array(bytes)
        return fastPath(bytes) ?? (try? JSONDecoder().decode(Body.self, from: Data(bytes)))
    }

    /// nil when the body is not exactly the plain shape; never wrong when it returns a value.
    public static func fastPath(_ bytes: [UInt8]) -> Body? {
        var index = 0
        func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
        func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        /// A string of printable ASCII with no escapes.
        func plainString() -> String? {
            guard expect(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                guard bytes[index] >= 0x20, bytes[index] < 0x7F, bytes[index] != UInt8(ascii: "\\") else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
        guard expect(UInt8(ascii: "{")) else { return nil }
        var code: String?
        var nonce: String?
        repeat {
            guard let key = plainString(), expect(UInt8(ascii: ":")), let value = plainString() else { return nil }
            switch key {
            case "code" where code == nil: code = value
            case "nonce" where nonce == nil: nonce = value
            default: return nil
            }
        } while expect(UInt8(ascii: ","))
        guard expect(UInt8(ascii: "}")), let code else { return nil }
        skipSpace()
        guard index == bytes.count else { return nil }
        return Body(code: code, nonce: nonce)
    }
}
