import Foundation
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// `GET /api/v1/shop/devices` and `DELETE /api/v1/shop/devices/{id}`: with its API key, a shop sees which cashier
/// devices are signed in and signs one out (a lost tablet, a cashier who left).
struct ShopDevicesController {
    typealias Context = AppRequestContext
    let database: any Store

    func add(to router: Router<Context>) {
        let group = router.group("/api/v1/shop/devices")
        group.get(use: list)
        group.delete(":id", use: revoke)
    }

    @Sendable func list(request: Request, context: Context) async throws -> Response {
        let merchantID = try await authenticate(request, context)
        let devices = try await database.shopDevices(merchantID: merchantID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = String(decoding: try encoder.encode(["devices": devices]), as: UTF8.self)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    @Sendable func revoke(request: Request, context: Context) async throws -> Response {
        let merchantID = try await authenticate(request, context)
        guard let id = context.parameters.get("id", as: Int64.self) else { throw APIError.badRequest("设备编号须为数字") }
        guard try await database.revokeShopDevice(merchantID: merchantID, deviceID: id, now: Date()) else {
            throw APIError(status: .notFound, code: "device_not_found", message: "没有这台已登录的设备")
        }
        return Response(status: .noContent)
    }

    /// The shop behind the bearer key; suspended and revoked shops may still sign devices out, not in.
    private func authenticate(_ request: Request, _ context: Context) async throws -> Int64 {
        guard let text = VerificationController.bearerToken(request.headers[.authorization]) else { throw APIError(.missingKey) }
        guard let key = MerchantAPIKey(parsing: text), let merchant = try await database.merchant(presenting: key), let id = merchant.id else {
            throw APIError(.unknownKey)
        }
        context.trace.merchantID.store(id, ordering: .relaxed)
        return id
    }
}
