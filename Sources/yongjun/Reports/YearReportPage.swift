import Foundation
import YongjunCore
import YongjunStorage

/// The yearly report as one self-contained page for printing on A4: inline CSS, inline SVG charts, no script, and
/// nothing fetched. Grey fills with black outlines and every figure written out, so it reads in black and white.
enum YearReportPage {
    static func document(_ report: YearReport, generatedOn: CalendarDate) -> String {
        let year = report.year
        let v = report.verifications
        let title = "\(year)年度“一城百店齐拥军”活动数据"
        let figures = [
            ("本年发放优待证", "\(report.cards.issued) 张"), ("有效优待证", "\(report.cards.active) 张"), ("合作商户", "\(report.shops.active) 家"),
            ("有效核验", "\(v.valid) 次"), ("服务持证人", "\(v.uniqueHolders) 人"), ("离线核验占比", percent(v.offlineShare)),
        ]
        var body = "<h1>\(escape(title))</h1>"
        body += "<p class=\"meta\">统计范围：\(year)年1月1日至12月31日（北京时间）；“有效”截至 \(escape(report.asOf))。"
        body += "数据来源：拥军核验系统。生成日期：\(generatedOn)。</p>"
        body +=
            "<div class=\"figures\">" + figures.map { "<div class=\"figure\"><b>\(escape($1))</b><span>\(escape($0))</span></div>" }.joined()
            + "</div>"

        body += "<section><h2>一、优待证</h2>"
        body += table(
            ["类别", "本年发放（张）", "有效（张）"],
            report.cards.byCategory.map { [$0.label, String($0.issued), String($0.active)] } + [
                ["合计", String(report.cards.issued), String(report.cards.active)]
            ]
        )
        body += "</section>"

        body += "<section><h2>二、合作商户</h2><h3>各批次申请与审核</h3>"
        body += table(
            ["批次", "开始日期", "会议日期", "申请", "通过", "未通过", "审核中"],
            report.shops.byBatch.map {
                [
                    "第\($0.batch)批", $0.openedOn, $0.meetingDate ?? "—", String($0.applied), String($0.approved), String($0.rejected),
                    String($0.underReview),
                ]
            },
            empty: "本年度没有开启的批次"
        )
        body += figure(SVGChart.bars(title: "合作商户行业分布（家）", items: report.shops.byIndustry.map { ChartItem($0.label, $0.count) }))
        body += "</section>"

        body += "<section class=\"new-page\"><h2>三、核验情况</h2>"
        body += "<p>全年核验 \(v.total) 次，其中有效 \(v.valid) 次、未通过 \(v.rejected) 次；服务持证人 \(v.uniqueHolders) 人；"
        body += "离线核验 \(v.offline) 次，占 \(percent(v.offlineShare))。</p>"
        body += figure(SVGChart.bars(title: "每月有效核验（次）", items: v.byMonth.map { ChartItem($0.label, $0.valid) }))
        body += figure(SVGChart.bars(title: "各行业有效核验（次）", items: v.byIndustry.map { ChartItem($0.label, $0.valid) }))
        body += figure(SVGChart.horizontalBars(title: "各镇（街道）有效核验（次）", items: v.byArea.map { ChartItem($0.label, $0.valid) }))
        body += "<h3>有效核验最多的十家商户</h3>"
        body += table(
            ["名次", "商户", "有效核验（次）", "核验总数（次）"],
            v.topShops.enumerated().map { [String($0 + 1), $1.label, String($1.valid), String($1.total)] },
            empty: "本年度没有有效核验"
        )
        body += "</section>"

        body += "<section><h2>四、商户入驻审核</h2>"
        body += figure(SVGChart.funnel(title: "\(year)年度各批次审核漏斗（家）", steps: report.funnel.map { ChartItem($0.label, $0.count) }))
        body += table(["环节", "到达（家）"], report.funnel.map { [$0.label, String($0.count)] })
        body += "</section>"
        return "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>\(escape(title))</title><style>\(css)</style></head>"
            + "<body>\(body)</body></html>"
    }

    static let css = """
        @page{size:A4;margin:15mm 14mm}
        body{margin:0 auto;max-width:182mm;font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;color:#000;background:#fff;font-size:11pt;line-height:1.5}
        h1{font-size:18pt;text-align:center;margin:0 0 2mm}h2{font-size:14pt;border-bottom:1.5pt solid #000;margin:6mm 0 2mm}
        h3{font-size:12pt;margin:4mm 0 2mm}h2,h3{break-after:avoid;page-break-after:avoid}
        .meta{font-size:9pt;text-align:center;margin:0 0 4mm}
        .figures{display:flex;flex-wrap:wrap;gap:2mm;margin:0 0 4mm}
        .figure{flex:1 1 27%;border:1pt solid #000;padding:2mm;text-align:center}
        .figure b{display:block;font-size:16pt}.figure span{font-size:9pt}
        table{width:100%;border-collapse:collapse;margin:0 0 3mm;break-inside:avoid;page-break-inside:avoid}
        th,td{border:0.75pt solid #000;padding:1mm 2mm;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
        th{background:#e6e6e6}
        figure{margin:0 0 4mm;break-inside:avoid;page-break-inside:avoid}figure svg{display:block;width:100%;height:auto}
        .new-page{break-before:page;page-break-before:always}
        .empty{font-style:italic}
        @media print{body{max-width:none}th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """

    static func table(_ header: [String], _ rows: [[String]], empty: String? = nil) -> String {
        if rows.isEmpty, let empty { return "<p class=\"empty\">\(escape(empty))</p>" }
        let head = "<tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        // Figures line up on the right; names and dates read from the left.
        let body = rows.map { row in
            "<tr>"
                + row.map {
                    $0.allSatisfy(\.isASCII) && $0.contains(where: \.isNumber) && !$0.contains("-")
                        ? "<td class=\"n\">\(escape($0))</td>" : "<td>\(escape($0))</td>"
                }.joined() + "</tr>"
        }.joined()
        return "<table><thead>\(head)</thead><tbody>\(body)</tbody></table>"
    }

    static func figure(_ svg: String) -> String { "<figure>\(svg)</figure>" }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    /// A share as a percentage with one decimal, "12.5%".
    static func percent(_ share: Double) -> String {
        let tenths = Int((share * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
