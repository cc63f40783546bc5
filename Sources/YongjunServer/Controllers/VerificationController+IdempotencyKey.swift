import HTTPTypes
import Hummingbird

extension VerificationController {
    /// `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): the nonce where a proxy can see it, so nginx
    /// resends a verification to another instance only when the resend is safe (deploy/nginx/yongjun.conf).
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// The request's nonce: the body's `nonce`, the `Idempotency-Key` header, or both when they are the same.
    /// Either must be 1–128 bytes; two that differ are refused rather than one silently winning.
    static func nonce(body: String?, headers: HTTPFields) throws -> String? {
        if let body, body.isEmpty || body.utf8.count > 128 {
            throw APIError.badRequest("nonce 长度须为 1–128 个字符")
        }
        let values = headers[values: idempotencyKey]
        guard let value = values.first else { return body }
        guard values.count == 1 else { throw APIError.badRequest("Idempotency-Key 只能有一个") }
        let header = headerNonce(value)
        if header.isEmpty || header.utf8.count > 128 {
            throw APIError.badRequest("Idempotency-Key 长度须为 1–128 个字符")
        }
        if let body, body != header {
            throw APIError.badRequest("请求体的 nonce 与 Idempotency-Key 不一致：两者相同，或只用其一")
        }
        return header
    }

    /// The draft's form is a structured-field string (`"till-3-000812"`); a bare value is taken as it is.
    static func headerNonce(_ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return value }
        var unquoted: [UInt8] = []
        var index = 1
        while index < bytes.count - 1 {
            var byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 1
                // Only \" and \\ are escapes (RFC 8941 §3.3.3); anything else means this is no structured string.
                guard index < bytes.count - 1, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") else { return value }
                byte = bytes[index]
            } else if byte == UInt8(ascii: "\"") || byte < 0x20 || byte > 0x7E {
                return value
            }
            unquoted.append(byte)
            index += 1
        }
        return String(decoding: unquoted, as: UTF8.self)
    }
}
