import Foundation
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// What a shop device needs to verify without a network (docs/offline.md): the status list, the signed shop
/// snapshot, and the way back for the records it made offline.
struct OfflineController {
    typealias Context = AppRequestContext
    let database: any Store
    let keys: KeyRingProvider
    let statusList: StatusListPublisher
    let service: VerificationService
    let settings: ServerSettings

    /// Offline records per upload at most.
    static let maximumRecords = 500
    static let maximumUploadBytes = 1 << 20

    func add(to router: Router<Context>) {
        router.get("/api/v1/status-list", use: statusListToken)
        router.get("/api/v1/shop/snapshot", use: snapshot)
        router.post("/api/v1/verifications/offline", use: upload)
    }

    /// Public, like the key set: anyone holding a code may check its entry. Conditional GET saves the town's data.
    @Sendable func statusListToken(request: Request, context: Context) async throws -> Response {
        let published: StatusListPublisher.Published
        do {
            published = try await statusList.current(now: Date())
        } catch {
            throw APIError(status: .serviceUnavailable, code: "unavailable", message: "状态列表暂不可用，请稍后再试", retryAfter: 5)
        }
        var headers: HTTPFields = [.eTag: published.etag, .cacheControl: "public, max-age=\(settings.statusListTTL)"]
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == published.etag || $0 == "*" })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = "application/statuslist+jwt"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: published.token)))
    }

    /// The shop's signed snapshot; a suspended or revoked shop gets 403, so its devices stop at their next sync.
    @Sendable func snapshot(request: Request, context: Context) async throws -> Response {
        let merchant = try await shop(request, context)
        switch merchant.status {
        case .active: break
        case .suspended: throw APIError(.merchantSuspended)
        case .revoked: throw APIError(.merchantRevoked)
        }
        let now = Date()
        let published: StatusListPublisher.Published
        do {
            published = try await statusList.current(now: now)
        } catch {
            throw APIError(status: .serviceUnavailable, code: "unavailable", message: "离线数据暂不可用，请稍后再试", retryAfter: 5)
        }
        let ring = keys.keyRing
        guard let key = ring.current, let id = merchant.id else { throw APIError(.unavailable) }
        let snapshot = ShopSnapshot(
            iss: settings.issuer,
            iat: Int(now.timeIntervalSince1970),
            maxOfflineAge: settings.offlineMaxAge,
            clockLeeway: settings.clockLeeway,
            jwks: ring.jwks,
            statusList: published.token,
            shop: .init(
                id: id,
                name: merchant.name,
                industry: merchant.industry.rawValue,
                status: merchant.status.rawValue,
                benefit: merchant.benefit,
                rules: try await database.snapshotBenefitRules(merchantID: id)
            )
        )
        let token = try key.sign(snapshot, type: ShopSnapshot.type)
        return Self.json(#"{"snapshot":"\#(token)"}"#)
    }

    struct Upload: Decodable {
        var records: [VerificationService.OfflineSubmission]
    }

    @Sendable func upload(request: Request, context: Context) async throws -> Response {
        let credential = try Self.credential(request)
        let body = try await HolderController.body(
            Upload.self,
            request,
            expected: #"{"records": [{"code","nonce","verifiedAt","result"}]}"#,
            limit: Self.maximumUploadBytes
        )
        // Each record's nonce already makes an upload safe to resend; the header only has to say so to nginx, and be well-formed.
        _ = try VerificationController.nonce(body: nil, headers: request.headers)
        guard body.records.count <= Self.maximumRecords else {
            throw APIError(status: .contentTooLarge, code: "too_many_records", message: "每次最多上传 \(Self.maximumRecords) 条记录，请分批上传")
        }
        let outcomes: [VerificationService.OfflineOutcome]
        do {
            outcomes = try await service.recordOffline(body.records, credential: credential)
        } catch {
            throw APIError(error)
        }
        struct Answer: Encodable {
            var accepted: Int
            var duplicates: Int
            var rejected: Int
            var flagged: Int
            var results: [VerificationService.OfflineOutcome]
        }
        let answer = Answer(
            accepted: outcomes.count { $0.status == .accepted },
            duplicates: outcomes.count { $0.status == .duplicate },
            rejected: outcomes.count { $0.status == .rejected },
            flagged: outcomes.count { $0.status == .accepted && $0.conflict != nil },
            results: outcomes
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Self.json(String(decoding: try encoder.encode(answer), as: UTF8.self))
    }

    /// The shop key from `Authorization: Bearer`, or else a signed-in cashier device's session cookie. A request
    /// carrying only the cookie must be JSON (POST) or a GET, which a page on another site cannot send with it.
    static func credential(_ request: Request) throws -> VerificationService.ShopCredential {
        if let key = VerificationController.bearerToken(request.headers[.authorization]) { return .apiKey(key) }
        if let token = request.cookies[ShopPages.cookieName]?.value { return .device(token: token) }
        throw APIError(.missingKey)
    }

    private func shop(_ request: Request, _ context: Context) async throws -> Merchant {
        try await ShopAuthentication(database: database).merchant(request, context)
    }

    static func json(_ body: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
