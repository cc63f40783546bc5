import Foundation
import Hummingbird
import YongjunCore

/// `GET /.well-known/jwks.json`: the public keys anyone can check a code with (RFC 7517, RFC 8037).
struct WellKnownController {
    typealias Context = AppRequestContext
    let keys: KeyRingProvider

    var endpoints: RouteCollection<Context> {
        RouteCollection(context: Context.self).get("jwks.json", use: jwks)
    }

    @Sendable func jwks(request: Request, context: Context) async throws -> Response {
        _ = keys.reloadIfStale(now: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(keys.keyRing.jwks)
        return Response(
            status: .ok,
            headers: [.contentType: "application/jwk-set+json", .cacheControl: "public, max-age=300"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
