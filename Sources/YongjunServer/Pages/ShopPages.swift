import Foundation
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// `/shop`: the cashier's page. The shop signs in with its key once per device (kept in a cookie); then one big
/// input takes a scanner's keystrokes or typed digits, and the answer fills the screen green or red.
struct ShopPages {
    typealias Context = AppRequestContext
    let database: AppDatabase
    let service: VerificationService
    let renderer: PageRenderer
    static let cookieName = "yj_shop"

    func add(to router: Router<Context>) {
        router.get("/shop", use: show)
        router.post("/shop/login", use: login)
        router.post("/shop/verify", use: verify)
    }

    @Sendable func show(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request)
        guard let merchant = try await signedIn(request) else {
            return renderer.withCSRF(renderer.page(title: "收银台核验", template: "shop-login", data: ["csrf": csrf.token]), csrf)
        }
        return renderer.withCSRF(renderer.page(title: "收银台核验", template: "shop-verify", data: ["csrf": csrf.token, "shopName": merchant.name]), csrf)
    }

    @Sendable func login(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        let text = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let key = MerchantAPIKey(parsing: text), let merchant = try await database.merchant(presenting: key) else {
            return renderer.page(
                title: "收银台核验",
                template: "shop-login",
                data: ["csrf": form["csrf"] ?? "", "error": "密钥不正确，请核对后重新输入"],
                status: .unauthorized
            )
        }
        guard merchant.status == .active else {
            return renderer.page(
                title: "收银台核验",
                template: "shop-login",
                data: ["csrf": form["csrf"] ?? "", "error": "非合作商户：该商户已暂停或取消合作"],
                status: .forbidden
            )
        }
        var response = PageRenderer.redirect("/shop")
        response.setCookie(renderer.cookie(Self.cookieName, key.text, maxAge: 365 * 86_400))
        return response
    }

    @Sendable func verify(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        guard let key = request.cookies[Self.cookieName]?.value else { return PageRenderer.redirect("/shop") }
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var result: [String: Any]
        var answeredBy: Int64?
        do {
            let answer = try await service.verify(code: code, nonce: nil, apiKey: key)
            context.trace.merchantID.store(answer.merchantID, ordering: .relaxed)
            answeredBy = answer.merchantID
            let json = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] ?? [:]
            if answer.reason == nil {
                result = ["class": "valid", "headline": "✓ 有效 · 请核对优待证", "detail": "\(json["categoryLabel"] ?? "") · \(json["holder"] ?? "")"]
            } else {
                result = ["class": "invalid", "headline": "✗ \(Self.shortReason(answer.reason))", "detail": json["message"] as? String ?? ""]
            }
        } catch {
            switch error {
            case .refused(let refusal):
                result = ["class": "invalid", "headline": "✗ 非合作商户", "detail": APIError(refusal).message]
            case .unavailable:
                result = ["class": "invalid", "headline": "✗ 暂时无法核验", "detail": "请稍后重试"]
            }
        }
        let shopName = try answeredBy.flatMap { try database.merchant(id: $0)?.name } ?? ""
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
        }
    }

    private func signedIn(_ request: Request) async throws -> Merchant? {
        guard let text = request.cookies[Self.cookieName]?.value, let key = MerchantAPIKey(parsing: text),
            let merchant = try await database.merchant(presenting: key), merchant.status == .active
        else { return nil }
        return merchant
    }
}
