import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// `/card`: holders activate, sign in with their PIN, and show their code (QR + 9-digit code) on a phone.
struct CardPages {
    typealias Context = AppRequestContext
    let database: AppDatabase
    let codes: CodeIssuing
    let holder: HolderController
    let renderer: PageRenderer

    func add(to router: Router<Context>) {
        router.get("/card", use: show)
        router.post("/card/login", use: login)
        router.get("/card/activate", use: activationForm)
        router.post("/card/activate", use: activate)
        router.post("/card/logout", use: logout)
    }

    @Sendable func show(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request)
        guard let token = request.cookies[HolderController.cookieName]?.value,
            let card = try await database.holderSessionCard(token: token, now: Date())
        else {
            return renderer.withCSRF(renderer.page(title: "我的优待码", template: "card-login", data: ["csrf": csrf.token]), csrf)
        }
        let issued: CodeIssuing.Issued
        do {
            issued = try codes.issue(for: card, now: Date())
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
        return try await formResult(request, template: "card-login", cardNo: cardNo) {
            let hasher = PINHasher(rounds: holder.settings.pinHashRounds)
            let pin = form["pin"] ?? ""
            return try database.authenticateHolder(
                cardNo: cardNo.trimmingCharacters(in: .whitespaces),
                now: Date(),
                activating: false,
                check: { _, pinHash in pinHash.map { hasher.verify(pin, against: $0) } ?? false }
            )
        }
    }

    @Sendable func activationForm(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request)
        return renderer.withCSRF(renderer.page(title: "激活", template: "card-activate", data: ["csrf": csrf.token]), csrf)
    }

    @Sendable func activate(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        let cardNo = form["cardNo"] ?? ""
        let pin = form["pin"] ?? ""
        if let problem = PINRule.problem(with: pin) ?? (pin == form["pin2"] ? nil : "两次输入的 PIN 不一致") {
            return renderer.page(title: "激活", template: "card-activate", data: ["csrf": form["csrf"] ?? "", "error": problem, "cardNo": cardNo])
        }
        return try await formResult(request, template: "card-activate", cardNo: cardNo) {
            try holder.activateHolder(cardNo: cardNo, activationCode: form["activationCode"] ?? "", pin: pin)
        }
    }

    @Sendable func logout(request: Request, context: Context) async throws -> Response {
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        if let token = request.cookies[HolderController.cookieName]?.value { try database.endHolderSession(token: token) }
        var response = PageRenderer.redirect("/card")
        response.setCookie(renderer.cookie(HolderController.cookieName, "", maxAge: 0))
        return response
    }

    /// Runs a sign-in; on success sets the session and goes to /card, else shows the form again with the reason.
    private func formResult(_ request: Request, template: String, cardNo: String, _ body: () throws -> Card) async throws -> Response {
        let title = template == "card-login" ? "我的优待码" : "激活"
        do {
            let card = try body()
            var generator = SystemRandomNumberGenerator()
            let token = HolderSecret.sessionToken(using: &generator)
            try database.createHolderSession(
                cardID: card.id,
                token: token,
                now: Date(),
                lifetime: TimeInterval(holder.settings.holderSessionLifetime)
            )
            var response = PageRenderer.redirect("/card")
            response.setCookie(renderer.cookie(HolderController.cookieName, token, maxAge: holder.settings.holderSessionLifetime))
            return response
        } catch let error as APIError {
            let csrf = request.cookies[PageRenderer.csrfCookie]?.value ?? ""
            return renderer.page(
                title: title,
                template: template,
                data: ["csrf": csrf, "error": error.message, "cardNo": cardNo],
                status: error.status
            )
        }
    }
}
