import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// `/shop`: the cashier's page. The shop signs a device in with its key once; the device then holds only a session
/// of its own (the shop can list and revoke it, and a new key ends it), never the key. One big input takes a
/// scanner's keystrokes or typed digits, and the answer fills the screen green or red.
struct ShopPages {
    typealias Context = AppRequestContext
    let database: any Store
    let service: VerificationService
    let renderer: PageRenderer
    let limiter: FormRateLimit
    static let cookieName = "yj_shop"
    static let deviceLifetime = 365 * 86_400
    static let serviceWorkerAllowed = HTTPField.Name("Service-Worker-Allowed")!

    func add(to router: Router<Context>) {
        router.get("/shop", use: show)
        router.post("/shop/login", use: login)
        router.post("/shop/verify", use: verify)
        router.get("/shop/sw.js") { _, _ in Self.serviceWorker }
    }

    /// The Service Worker lives under /shop/ but controls /shop itself, which takes `Service-Worker-Allowed`; `no-cache`
    /// so a new version reaches devices at their next visit.
    static var serviceWorker: Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache", serviceWorkerAllowed: "/shop"],
            body: .init(byteBuffer: ByteBuffer(string: Assets.shopServiceWorker))
        )
    }

    @Sendable func show(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request, context)
        guard let merchant = try await signedIn(request) else {
            return renderer.withCSRF(renderer.page(title: "收银台核验", template: "shop-login", data: ["csrf": csrf.token]), csrf)
        }
        return renderer.withCSRF(renderer.page(title: "收银台核验", template: "shop-verify", data: ["csrf": csrf.token, "shopName": merchant.name]), csrf)
    }

    @Sendable func login(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        func again(_ message: String, _ status: HTTPResponse.Status) -> Response {
            renderer.page(title: "收银台核验", template: "shop-login", data: ["csrf": form["csrf"] ?? "", "error": message], status: status)
        }
        guard limiter.allow(request, context) else { return again("提交过于频繁，请一分钟后再试", .tooManyRequests) }
        let text = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = MerchantAPIKey(parsing: text), let merchant = try await database.merchant(presenting: key), let merchantID = merchant.id
        else {
            return again("密钥不正确，请核对后重新输入", .unauthorized)
        }
        guard merchant.status == .active else { return again("非合作商户：该商户已暂停或取消合作", .forbidden) }
        var generator = SystemRandomNumberGenerator()
        let token = HolderSecret.sessionToken(using: &generator)
        let label = request.headers[.userAgent].map { String($0.prefix(120)) } ?? "收银设备"
        try await database.addShopDevice(merchantID: merchantID, token: token, label: label, now: Date())
        var response = PageRenderer.redirect("/shop")
        response.setCookie(renderer.cookies.cookie(Self.cookieName, token, maxAge: Self.deviceLifetime, for: request, context))
        return response
    }

    @Sendable func verify(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        guard let token = request.cookies[Self.cookieName]?.value else { return PageRenderer.redirect("/shop") }
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // The page's script sends one per code it is asked (the form without JavaScript sends none), under the API's rule.
        let nonce: String?
        do {
            nonce = try VerificationController.nonce(body: form["nonce"].flatMap { $0.isEmpty ? nil : $0 }, headers: request.headers)
        } catch let error as APIError {
            throw PageError(status: error.status, message: error.message, back: "/shop")
        }
        var result: [String: Any]
        var answeredBy: Int64?
        do {
            let answer = try await service.verify(code: code, nonce: nonce, credential: .device(token: token))
            context.trace.merchantID.store(answer.merchantID, ordering: .relaxed)
            answeredBy = answer.merchantID
            let json = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] ?? [:]
            let who = "\(json["categoryLabel"] ?? "") · \(json["holder"] ?? "")"
            if answer.reason == nil, json["eligible"] as? Bool == false {
                // Genuine card, but this shop's rules do not cover it now: not green, so nobody gives the benefit by habit.
                result = ["class": "notice", "headline": "证件有效 · 本店优惠不适用", "detail": who + " · " + VerificationReason.notEligibleHere.message]
            } else if answer.reason == nil {
                result = ["class": "valid", "headline": "✓ 有效 · 请核对优待证", "detail": who]
                if let benefit = json["benefit"] as? String, !benefit.isEmpty { result["benefit"] = benefit }
            } else {
                result = ["class": "invalid", "headline": "✗ \(Self.shortReason(answer.reason))", "detail": json["message"] as? String ?? ""]
            }
        } catch {
            let answer = APIError(error)
            switch error {
            case .refused(.unknownKey): return PageRenderer.redirect("/shop")
            case .refused: result = ["class": "invalid", "headline": "✗ 非合作商户", "detail": answer.message]
            case .throttled: result = ["class": "invalid", "headline": "✗ 数字码错误过多", "detail": answer.message]
            case .unavailable: result = ["class": "invalid", "headline": "✗ 暂时无法核验", "detail": answer.message]
            }
        }
        let shopName = try await answeredBy.asyncFlatMap { try await database.merchant(id: $0)?.name } ?? ""
        return renderer.page(title: "收银台核验", template: "shop-verify", data: ["csrf": form["csrf"] ?? "", "result": result, "shopName": shopName])
    }

    /// The two or three words a cashier reads first.
    static func shortReason(_ reason: VerificationReason?) -> String {
        switch reason {
        case .expired: "已过期"
        case .alreadyUsedHere: "已使用"
        case .cardRevoked: "证件已注销"
        case .cardExpired: "证件已过期"
        case .unknownShortCode: "数字码无效"
        case .notYetValid: "尚未生效"
        case .badSignature, .unknownKey: "非本平台优待码"
        case .malformed, .unknownCard, nil: "无法识别"
        case .notEligibleHere: "本店优惠不适用"
        case .syncRequired: "请联网同步"
        case .offlineUnsupported: "须联网核验"
        }
    }

    private func signedIn(_ request: Request) async throws -> Merchant? {
        guard let token = request.cookies[Self.cookieName]?.value, let merchant = try await database.merchant(deviceToken: token),
            merchant.status == .active
        else { return nil }
        return merchant
    }
}

extension Optional {
    /// `flatMap` for an async transform.
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
