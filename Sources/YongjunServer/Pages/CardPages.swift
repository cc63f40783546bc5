import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// `/card`: holders activate, sign in with their PIN, and show their code (QR + 9-digit code) on a phone.
struct CardPages {
    typealias Context = AppRequestContext
    let database: any Store
    let codes: CodeIssuing
    let signIn: HolderSignIn
    let renderer: PageRenderer
    let limiter: FormRateLimit
    let sessionLifetime: Int

    func add(to router: Router<Context>) {
        router.get("/card", use: show)
        router.post("/card/login", use: login)
        router.get("/card/activate", use: activationForm)
        router.post("/card/activate", use: activate)
        router.post("/card/logout", use: logout)
    }

    @Sendable func show(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request, context)
        guard let token = request.cookies[HolderController.cookieName]?.value,
            let card = try await database.holderSessionCard(token: token, now: Date())
        else {
            return renderer.withCSRF(renderer.page(title: "我的优待码", template: "card-login", data: ["csrf": csrf.token]), csrf)
        }
        let issued: CodeIssuing.Issued
        do {
            issued = try await codes.issue(for: card, now: Date())
        } catch let error as APIError {
            return renderer.withCSRF(renderer.page(title: "我的优待码", template: "card-login", data: ["csrf": csrf.token, "error": error.message]), csrf)
        }
        let secondsLeft = max(0, issued.code.claims.exp - Int(Date().timeIntervalSince1970))
        let qr = try QRCode(text: issued.code.token, errorCorrection: .medium).svg(moduleSize: 6)
        let data: [String: Any] = [
            "csrf": csrf.token, "holder": issued.code.claims.name, "categoryLabel": card.category.label, "qr": qr,
            "shortCode": issued.shortCode, "secondsLeft": secondsLeft,
        ]
        return renderer.withCSRF(renderer.page(title: "我的优待码", template: "card-code", data: data, refresh: max(5, secondsLeft - 10)), csrf)
    }

    @Sendable func login(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        let cardNo = form["cardNo"] ?? ""
        return await formResult(request, context, form: form, template: "card-login") {
            try await signIn.signIn(cardNo: cardNo, pin: form["pin"] ?? "")
        }
    }

    @Sendable func activationForm(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request, context)
        return renderer.withCSRF(renderer.page(title: "激活", template: "card-activate", data: ["csrf": csrf.token]), csrf)
    }

    @Sendable func activate(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        let pin = form["pin"] ?? ""
        return await formResult(request, context, form: form, template: "card-activate") {
            if let problem = PINRule.problem(with: pin) ?? (pin == form["pin2"] ? nil : "两次输入的 PIN 不一致") {
                throw APIError(status: .badRequest, code: "weak_pin", message: problem)
            }
            return try await signIn.activate(cardNo: form["cardNo"] ?? "", activationCode: form["activationCode"] ?? "", pin: pin)
        }
    }

    @Sendable func logout(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        if let token = request.cookies[HolderController.cookieName]?.value { try await database.endHolderSession(token: token) }
        var response = PageRenderer.redirect("/card")
        response.setCookie(renderer.cookies.cookie(HolderController.cookieName, "", maxAge: 0, for: request, context))
        return response
    }

    /// Runs a sign-in; on success sets the session and goes to /card. Any failure shows the form again with a Chinese
    /// message and a 4xx (or 503) status: `HolderSignIn` already turned domain errors into `APIError`s.
    private func formResult(
        _ request: Request,
        _ context: Context,
        form: [String: String],
        template: String,
        _ body: () async throws -> Card
    ) async -> Response {
        do {
            guard limiter.allow(request, context) else {
                throw APIError(status: .tooManyRequests, code: "rate_limited", message: "提交过于频繁，请一分钟后再试", retryAfter: 60)
            }
            let card = try await body()
            let token = try await signIn.startSession(for: card)
            var response = PageRenderer.redirect("/card")
            response.setCookie(renderer.cookies.cookie(HolderController.cookieName, token, maxAge: sessionLifetime, for: request, context))
            return response
        } catch {
            let answer = error as? APIError ?? APIError(status: .serviceUnavailable, code: "unavailable", message: "暂时无法登录，请稍后再试")
            var response = renderer.page(
                title: template == "card-login" ? "我的优待码" : "激活",
                template: template,
                data: ["csrf": form["csrf"] ?? "", "error": answer.message, "cardNo": form["cardNo"] ?? ""],
                status: answer.status
            )
            if let seconds = answer.retryAfter { response.headers[.retryAfter] = String(seconds) }
            return response
        }
    }
}
