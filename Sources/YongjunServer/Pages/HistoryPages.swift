import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// `/shop/history` (the cashier device's shop: its verifications by day, a month at a time, and the month as CSV)
/// and `/card/history` (the holder: where the card was used, with a receipt for each benefit).
struct HistoryPages {
    typealias Context = AppRequestContext
    let database: any Store
    let history: HistoryController
    let renderer: PageRenderer

    static let shownPerMonth = 2000

    func add(to router: Router<Context>) {
        router.get("/shop/history", use: shopHistory)
        router.get("/shop/history.csv", use: shopHistoryCSV)
        router.get("/card/history", use: cardHistory)
    }

    /// The month asked for (`?month=YYYY-MM`), this China-time month by default.
    private func month(_ request: Request) throws -> String {
        try HistoryController.month(request.uri.queryParameters["month"].map(String.init))
            ?? String(CalendarDate(chinaDayOf: Date()).description.prefix(7))
    }

    private func shop(_ request: Request) async throws -> Merchant? {
        guard let token = request.cookies[ShopPages.cookieName]?.value else { return nil }
        return try await database.merchant(deviceToken: token)
    }

    /// China-time `YYYY-MM-DD` and `HH:MM` of a record time.
    static func local(_ iso: String) -> (day: String, time: String) {
        guard let date = Timestamp.parse(iso) else { return (String(iso.prefix(10)), "") }
        let shifted = Timestamp.iso(date.addingTimeInterval(TimeInterval(CalendarDate.chinaOffsetSeconds)))
        return (String(shifted.prefix(10)), String(shifted.dropFirst(11).prefix(5)))
    }

    static func result(valid: Bool, reason: String?) -> String {
        if valid { return reason == VerificationReason.notEligibleHere.rawValue ? "有效（不适用本店优惠）" : "有效" }
        return "无效：" + ShopPages.shortReason(reason.flatMap(VerificationReason.init(rawValue:)))
    }

    @Sendable func shopHistory(request: Request, context: Context) async throws -> Response {
        guard let merchant = try await shop(request), let merchantID = merchant.id else { return PageRenderer.redirect("/shop") }
        let month = try month(request)
        // A page lists at most `shownPerMonth`; the CSV holds the whole month.
        let items = try await history.shopItems(merchantID: merchantID, before: nil, month: month, limit: Self.shownPerMonth + 1)
        let truncated = items.count > Self.shownPerMonth
        var days: [(String, [[String: Any]])] = []
        for item in items.prefix(Self.shownPerMonth) {
            let (day, time) = Self.local(item.time)
            // Mustache shows a section for an empty string too: absent values stay out of the dictionary.
            var row: [String: Any] = [
                "time": time, "category": item.categoryLabel ?? "无法识别的码",
                "result": Self.result(valid: item.valid, reason: item.reason), "valid": item.valid && item.eligible != false, "offline": item.offline,
            ]
            if let holder = item.holder { row["holder"] = holder }
            if let pseudonym = item.pseudonym { row["pseudonym"] = pseudonym }
            if let benefit = item.benefit, !benefit.isEmpty { row["benefit"] = benefit }
            if days.last?.0 == day { days[days.count - 1].1.append(row) } else { days.append((day, [row])) }
        }
        let valid = items.prefix(Self.shownPerMonth).filter { $0.valid && $0.eligible != false }.count
        let previous = CalendarDate(iso: month + "-01").map { CalendarDate(daysSinceEpoch: $0.daysSinceEpoch - 1).description.prefix(7) }
        let data: [String: Any] = [
            "shopName": merchant.name, "month": month, "total": truncated ? "\(Self.shownPerMonth) 多" : "\(items.count)", "valid": valid,
            "truncated": truncated,
            "days": days.map { ["day": $0.0, "count": $0.1.count, "rows": $0.1] }, "previous": previous.map(String.init) ?? "",
        ]
        return renderer.page(title: "本店核验记录", template: "shop-history", data: data)
    }

    @Sendable func shopHistoryCSV(request: Request, context: Context) async throws -> Response {
        guard let merchant = try await shop(request), let merchantID = merchant.id else { return PageRenderer.redirect("/shop") }
        let month = try month(request)
        let items = try await history.shopItems(merchantID: merchantID, before: nil, month: month, limit: 100_000)
        let rows = items.map { item -> [String] in
            let (day, time) = Self.local(item.time)
            return [
                day, time, item.categoryLabel ?? "", item.holder ?? "", item.pseudonym ?? "", Self.result(valid: item.valid, reason: item.reason),
                item.benefit ?? "", item.offline ? "离线" : "", item.id,
            ]
        }
        let csv = CSVText.document(["日期", "时间", "类别", "持证人", "持证人编号", "结果", "优惠", "方式", "记录编号"], rows)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"verifications-\(month).csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv))
        )
    }

    @Sendable func cardHistory(request: Request, context: Context) async throws -> Response {
        guard let token = request.cookies[HolderController.cookieName]?.value,
            let card = try await database.holderSessionCard(token: token, now: Date())
        else { return PageRenderer.redirect("/card") }
        let items = try await history.holderItems(card: card, limit: 200)
        let rows = items.map { item -> [String: Any] in
            let (day, time) = Self.local(item.time)
            var row: [String: Any] = [
                "day": day, "time": time, "shop": item.shop, "result": Self.result(valid: item.valid, reason: item.reason),
                "valid": item.valid && item.reason == nil, "id": item.id,
            ]
            if let benefit = item.benefit, !benefit.isEmpty { row["benefit"] = benefit }
            if let receipt = item.receipt { row["receipt"] = receipt }
            return row
        }
        return renderer.page(title: "使用记录", template: "card-history", data: ["rows": rows, "holder": NameMask.mask(card.name)])
    }
}

extension Templates {
    static let histories: [(String, String)] = [("shop-history", shopHistory), ("card-history", cardHistory)]

    static let shopHistory = """
        <h1>{{shopName}} · 核验记录</h1>
        <p>{{month}}：共 {{total}} 次核验，其中享受优惠 {{valid}} 次{{#truncated}}（本页只列出最近 2000 次，全月记录请下载表格）{{/truncated}}。</p>
        <nav><a href="/shop">返回核验</a>{{#previous}}<a href="/shop/history?month={{previous}}">上个月</a>{{/previous}}<a href="/shop/history.csv?month={{month}}">下载本月表格（CSV）</a></nav>
        {{#days}}<h2>{{day}}（{{count}} 次）</h2>
        <ul class="shops">{{#rows}}<li><strong>{{time}}</strong> · {{category}}{{#holder}} · {{holder}}{{/holder}}{{#pseudonym}} <span class="note">{{pseudonym}}</span>{{/pseudonym}}{{#offline}} <span class="note">离线核验</span>{{/offline}}
        <br>{{#valid}}<strong>{{result}}</strong>{{/valid}}{{^valid}}{{result}}{{/valid}}{{#benefit}} · 优惠：{{benefit}}{{/benefit}}</li>{{/rows}}</ul>{{/days}}
        {{^days}}<p>本月暂无核验记录。</p>{{/days}}
        <p class="note">持证人只显示打码姓名和本店专用编号，不显示证号；同一持证人在本店的编号不变，在其他商户不同。</p>
        """

    static let cardHistory = """
        <h1>{{holder}} · 使用记录</h1>
        <nav><a href="/card">返回我的优待码</a></nav>
        <ul class="shops">{{#rows}}<li><strong>{{shop}}</strong><br>{{day}} {{time}} · {{result}}{{#benefit}}<br>优惠：{{benefit}}{{/benefit}}
        {{#receipt}}<details><summary>查看凭证</summary><p class="note">这是事务局签发的电子凭证，可交工作人员用“yongjun receipts verify”核验。</p><textarea readonly rows="6">{{receipt}}</textarea></details>{{/receipt}}</li>{{/rows}}</ul>
        {{^rows}}<p>您的优待证还没有使用记录。</p>{{/rows}}
        """
}
