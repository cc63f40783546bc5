import Foundation
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// Each side's own record: `GET /api/v1/shop/verifications` (the shop's verifications, holders by pseudonym and
/// masked name only) and `GET /api/v1/holder/history` (where the holder's card was used, with a signed receipt for
/// each verification that gave a benefit).
struct HistoryController {
    typealias Context = AppRequestContext
    let database: any Store
    let keys: KeyRingProvider
    let issuer: String

    static let maximumPage = 200

    func add(to router: Router<Context>) {
        router.get("/api/v1/shop/verifications", use: shopVerifications)
        router.get("/api/v1/holder/history", use: holderHistory)
    }

    /// One page of the shop's history, as JSON.
    struct ShopItem: Encodable {
        var id: String
        var time: String
        var category: String?
        var categoryLabel: String?
        var holder: String?
        var pseudonym: String?
        var valid: Bool
        var reason: String?
        var eligible: Bool?
        var benefit: String?
        var offline: Bool
    }

    func shopItems(merchantID: Int64, before: String?, month: String?, limit: Int) async throws -> [ShopItem] {
        try await database.shopHistory(merchantID: merchantID, before: before, month: month, limit: limit).map { entry in
            ShopItem(
                id: entry.id,
                time: entry.createdAt,
                category: entry.category?.rawValue,
                categoryLabel: entry.category?.label,
                holder: entry.maskedName,
                pseudonym: entry.cardID.map { keys.pseudonyms.pseudonym(cardID: $0, merchantID: merchantID) },
                valid: entry.valid,
                reason: entry.valid ? (entry.eligible == false ? VerificationReason.notEligibleHere.rawValue : nil) : entry.reason,
                eligible: entry.valid ? entry.eligible : nil,
                benefit: entry.benefit,
                offline: entry.offline
            )
        }
    }

    @Sendable func shopVerifications(request: Request, context: Context) async throws -> Response {
        let merchant = try await ShopAuthentication(database: database).merchant(request, context)
        guard let merchantID = merchant.id else { throw APIError(.unknownKey) }
        let query = request.uri.queryParameters
        let limit = try Self.limit(query["limit"].map(String.init))
        let before = query["before"].map(String.init)
        if let before, before.count != 26 || !before.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isUppercase) }) {
            throw APIError.badRequest("before 须为上一页最后一条记录的 id")
        }
        let month = try Self.month(query["month"].map(String.init))
        let items = try await shopItems(merchantID: merchantID, before: before, month: month, limit: limit + 1)
        struct Page: Encodable {
            var verifications: [ShopItem]
            var next: String?
        }
        let page = Page(verifications: Array(items.prefix(limit)), next: items.count > limit ? items[limit - 1].id : nil)
        return try Self.json(page)
    }

    struct HolderItem: Encodable {
        var id: String
        var time: String
        var shop: String
        var valid: Bool
        var reason: String?
        var benefit: String?
        var receipt: String?
    }

    func holderItems(card: Card, limit: Int) async throws -> [HolderItem] {
        let key = keys.keyRing.current
        return try await database.holderHistory(cardID: card.id, limit: limit).map { entry in
            var receipt: String?
            if entry.valid, entry.eligible != false, let key {
                receipt = try? key.sign(receiptClaims(entry, cardID: card.id), type: ReceiptClaims.type)
            }
            return HolderItem(
                id: entry.id,
                time: entry.createdAt,
                shop: entry.shopName,
                valid: entry.valid,
                reason: entry.valid ? (entry.eligible == false ? VerificationReason.notEligibleHere.rawValue : nil) : entry.reason,
                benefit: entry.benefit,
                receipt: receipt
            )
        }
    }

    func receiptClaims(_ entry: HolderHistoryEntry, cardID: String) -> ReceiptClaims {
        ReceiptClaims(
            iss: issuer,
            vid: entry.id,
            iat: Int(Timestamp.parse(entry.createdAt)?.timeIntervalSince1970 ?? 0),
            at: entry.createdAt,
            shop: .init(id: entry.merchantID, name: entry.shopName),
            benefit: entry.benefit,
            holder: keys.pseudonyms.pseudonym(cardID: cardID, merchantID: entry.merchantID)
        )
    }

    @Sendable func holderHistory(request: Request, context: Context) async throws -> Response {
        guard let token = request.cookies[HolderController.cookieName]?.value,
            let card = try await database.holderSessionCard(token: token, now: Date())
        else {
            throw APIError(status: .unauthorized, code: "not_signed_in", message: "请先登录")
        }
        let limit = try Self.limit(request.uri.queryParameters["limit"].map(String.init))
        struct Page: Encodable { var verifications: [HolderItem] }
        return try Self.json(Page(verifications: try await holderItems(card: card, limit: limit)))
    }

    static func limit(_ text: String?) throws -> Int {
        guard let text else { return 50 }
        guard let value = Int(text), (1...maximumPage).contains(value) else { throw APIError.badRequest("limit 须为 1–\(maximumPage)") }
        return value
    }

    static func month(_ text: String?) throws -> String? {
        guard let text else { return nil }
        guard let day = CalendarDate(iso: text + "-01"), day.description.hasPrefix(text) else { throw APIError.badRequest("month 格式须为 YYYY-MM") }
        return text
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value)))
        )
    }
}

/// The shop behind a request: the key in `Authorization: Bearer`, or a signed-in cashier device's cookie. Any
/// status: a suspended shop may still read its own records; what it may do is decided by the caller.
struct ShopAuthentication {
    let database: any Store

    func merchant(_ request: Request, _ context: AppRequestContext) async throws -> Merchant {
        let merchant: Merchant?
        switch try OfflineController.credential(request) {
        case .apiKey(let text):
            merchant = try await text.flatMap(MerchantAPIKey.init(parsing:)).asyncFlatMap { try await database.merchant(presenting: $0) }
        case .device(let token):
            merchant = try await database.merchant(deviceToken: token)
        }
        guard let merchant else { throw APIError(.unknownKey) }
        if let id = merchant.id { context.trace.merchantID.store(id, ordering: .relaxed) }
        return merchant
    }
}
