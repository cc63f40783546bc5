import Foundation
import Hummingbird
import Synchronization
import YongjunCore

/// `POST /api/v1/verifications`: a shop checks a code at the counter.
struct VerificationController {
    typealias Context = AppRequestContext
    let service: VerificationService
    let maximumBodySize: Int

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self).post(use: verify)
    }

    @Sendable func verify(request: Request, context: Context) async throws -> Response {
        guard let apiKey = Self.bearerToken(request.headers[.authorization]) else { throw APIError(.missingKey) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBodySize)
        } catch {
            throw APIError(status: .contentTooLarge, code: "body_too_large", message: "请求体超过 \(maximumBodySize) 字节")
        }
        guard let body = VerifyRequestParser.parse(buffer.readableBytesView) else {
            throw APIError.badRequest(#"请求体必须是 JSON：{"code": "…", "nonce": "…(可选)"}"#)
        }
        let nonce = try Self.nonce(body: body.nonce, headers: request.headers)
        do {
            let answer = try await service.verify(code: body.code, nonce: nonce, credential: .apiKey(apiKey))
            context.trace.merchantID.store(answer.merchantID, ordering: .relaxed)
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: answer.body))
            )
        } catch {
            throw APIError(error)
        }
    }

    /// The key from `Authorization: Bearer <key>`; nil when absent or another scheme. Works on bytes: it runs per request.
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        var bytes = header.utf8[...]
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        bytes = bytes.dropFirst(scheme.count)
        while bytes.first == UInt8(ascii: " ") { bytes = bytes.dropFirst() }
        while bytes.last == UInt8(ascii: " ") { bytes = bytes.dropLast() }
        return bytes.isEmpty ? nil : String(Substring(bytes))
    }
}
