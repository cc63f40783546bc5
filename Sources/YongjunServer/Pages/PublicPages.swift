import Foundation
import Hummingbird
import NIOPosix
import YongjunCore
import YongjunStorage

/// `/shops` (the partner-shop directory) and `/apply` (a shop's application, into the open batch).
struct PublicPages {
    typealias Context = AppRequestContext
    let database: any Store
    let renderer: PageRenderer
    let applyLimiter = RateLimiter(perMinute: 5)
    let trustedProxies: Set<String>

    func add(to router: Router<Context>) {
        router.get("/shops", use: shops)
        router.get("/apply", use: applyForm)
        router.post("/apply", use: apply)
        router.get("/assets/site.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/card.js") { _, _ in Self.asset(Assets.cardScript, type: "text/javascript; charset=utf-8") }
        router.get("/assets/offline-verify.js") { _, _ in Self.asset(Assets.offlineVerifyScript, type: "text/javascript; charset=utf-8") }
        router.get("/assets/offline-benefit.js") { _, _ in Self.asset(Assets.offlineBenefitScript, type: "text/javascript; charset=utf-8") }
        router.get("/assets/shop.js") { _, _ in Self.asset(Assets.shopScript, type: "text/javascript; charset=utf-8") }
        router.get("/") { _, _ in PageRenderer.redirect("/shops") }
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: type, .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    @Sendable func shops(request: Request, context: Context) async throws -> Response {
        let industry = request.uri.queryParameters.get("industry").flatMap(Industry.init(codeOrLabel:))
        // A signed-in holder may narrow the list to what their category gets today.
        let holder = try await request.cookies[HolderController.cookieName].asyncFlatMap {
            try await database.holderSessionCard(token: $0.value, now: Date())
        }
        let mine = holder != nil && request.uri.queryParameters.get("mine") == "1"
        let today = CalendarDate(chinaDayOf: Date())
        let rules = try await database.allBenefitRules()
        let shops = try await database.merchants(status: .active, industry: industry).compactMap { merchant -> [String: Any]? in
            var shopRules = merchant.id.flatMap { rules[$0] } ?? []
            if mine, let category = holder?.category {
                shopRules = shopRules.filter { $0.covers(category, on: today) }
                if shopRules.isEmpty && !(rules[merchant.id ?? 0] ?? []).isEmpty { return nil }
            }
            return [
                "name": merchant.name, "industryLabel": merchant.industry.label, "address": merchant.address ?? "", "benefit": merchant.benefit ?? "",
                "batch": merchant.batchNumber.map(String.init) ?? "",
                "rules": shopRules.map { ["categories": $0.categoriesLabel, "benefit": $0.benefit, "limits": $0.limitsLabel] },
            ]
        }
        let filters: [[String: Any]] =
            [["href": "/shops", "label": "全部", "current": industry == nil]]
            + Industry.allCases.map { ["href": "/shops?industry=\($0.rawValue)", "label": $0.label, "current": $0 == industry] }
        var data: [String: Any] = ["shops": shops, "filters": filters, "mine": mine]
        if let holder { data["holderCategory"] = holder.category.label }
        return renderer.page(title: "合作商户", template: "shops", data: data)
    }

    @Sendable func applyForm(request: Request, context: Context) async throws -> Response {
        let csrf = renderer.csrfToken(request, context)
        return renderer.withCSRF(renderer.page(title: "商户入驻申请", template: "apply", data: formData(csrf: csrf.token, values: [:])), csrf)
    }

    @Sendable func apply(request: Request, context: Context) async throws -> Response {
        let client = ClientAddress.resolve(
            peer: context.peerAddress,
            forwardedFor: request.headers[RateLimitMiddleware.forwardedFor],
            trusted: trustedProxies
        )
        guard applyLimiter.allow(client, now: ContinuousClock.now) else {
            throw APIError(status: .tooManyRequests, code: "rate_limited", message: "提交过于频繁，请稍后再试")
        }
        let form = try await readForm(request)
        try renderer.checkCSRF(request, form: form)
        let values = [
            "shop_name": form["shopName"], "credit_code": form["creditCode"], "industry": form["industry"], "address": form["address"],
            "contact": form["contact"], "phone": form["phone"], "benefit": form["benefit"],
        ].compactMapValues { $0 }
        func again(_ message: String, _ status: HTTPResponse.Status) -> Response {
            var data = formData(csrf: form["csrf"] ?? "", values: form)
            data["error"] = message
            return renderer.page(title: "商户入驻申请", template: "apply", data: data, status: status)
        }
        let application: ImportedApplication
        switch ApplicationImport.validate(form: values) {
        case .success(let valid): application = valid
        case .failure(let problem): return again("请检查：" + problem.reason, .badRequest)
        }
        guard let number = try await database.openBatchNumber() else {
            return again("目前没有正在受理的申请批次，请关注事务局通知", .conflict)
        }
        do {
            // A credit code already in this batch is taken and flagged for the bureau, not refused: a stranger may have
            // used a real shop's code first, and the real shop must still be able to apply.
            let reference = try await database.submitApplication(application, batch: number, now: Date())
            return renderer.page(
                title: "申请已提交",
                template: "apply-done",
                data: [
                    "reference": reference, "batch": number, "contact": application.contact, "phone": application.phone,
                ]
            )
        } catch is ImportConflicts {
            return again("该统一社会信用代码已是合作商户，或仍在上一批次审核中，无需重复提交。如需修改请联系事务局。", .conflict)
        }
    }

    private func formData(csrf: String, values: [String: String]) -> [String: Any] {
        var data: [String: Any] = ["csrf": csrf]
        for key in ["shopName", "creditCode", "address", "contact", "phone", "benefit"] { data[key] = values[key] ?? "" }
        data["industries"] = Industry.allCases.map { ["code": $0.rawValue, "label": $0.label, "selected": values["industry"] == $0.rawValue] }
        return data
    }
}
