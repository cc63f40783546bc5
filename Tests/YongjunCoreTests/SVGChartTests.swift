import Foundation
import Testing
import YongjunCore

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The chart as an XML parser sees it: every element's attributes and the text of each `text` element, in order.
private final class ParsedSVG: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [(className: String, text: String)] = []
    private var open: (className: String, text: String)?

    static func parse(_ svg: String) throws -> ParsedSVG {
        let parser = XMLParser(data: Data(svg.utf8))
        let parsed = ParsedSVG()
        parser.delegate = parsed
        #expect(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError)) in \(svg.prefix(300))")
        return parsed
    }

    func parser(_: XMLParser, didStartElement name: String, namespaceURI _: String?, qualifiedName _: String?, attributes: [String: String]) {
        elements.append((name, attributes))
        if name == "text" { open = (attributes["class"] ?? "", "") }
    }

    func parser(_: XMLParser, foundCharacters string: String) {
        open?.text += string
    }

    func parser(_: XMLParser, didEndElement name: String, namespaceURI _: String?, qualifiedName _: String?) {
        if name == "text", let done = open { texts.append(done) }
        if name == "text" { open = nil }
    }

    func rects(_ className: String) -> [[String: String]] {
        elements.filter { $0.name == "rect" && $0.attributes["class"] == className }.map(\.attributes)
    }

    func texts(_ className: String) -> [String] {
        texts.filter { $0.className == className }.map(\.text)
    }
}

@Suite("SVG charts for printed reports")
struct SVGChartTests {
    @Test("vertical bars are as tall as their share of the largest value, with every label and value written out")
    func barsToScale() throws {
        let items = [ChartItem("1月", 40), ChartItem("2月", 10), ChartItem("3月", 0), ChartItem("4月", 20)]
        let chart = try ParsedSVG.parse(SVGChart.bars(title: "每月核验", items: items))
        let heights = chart.rects("bar").compactMap { Double($0["height"] ?? "") }
        #expect(heights == [200, 50, 0, 100])
        let bottoms = chart.rects("bar").compactMap { rect in Double(rect["y"] ?? "").map { $0 + Double(rect["height"] ?? "0")! } }
        #expect(Set(bottoms).count == 1, "all bars stand on one baseline")
        #expect(chart.texts("label") == ["1月", "2月", "3月", "4月"])
        #expect(chart.texts("value") == ["40", "10", "0", "20"])
        #expect(chart.texts("title") == ["每月核验"])
    }

    @Test("horizontal bars and funnel steps are as long as their share of the largest value")
    func horizontalAndFunnelToScale() throws {
        let towns = try ParsedSVG.parse(SVGChart.horizontalBars(title: "镇街", items: [ChartItem("连州镇", 8), ChartItem("西江镇", 2)]))
        #expect(towns.rects("bar").compactMap { Double($0["width"] ?? "") } == [400, 100])
        #expect(towns.texts("label") == ["连州镇", "西江镇"])
        let steps = [ChartItem("提交申请", 20), ChartItem("资格审核", 15), ChartItem("开会通过", 5)]
        let funnel = try ParsedSVG.parse(SVGChart.funnel(title: "审核漏斗", steps: steps))
        let rects = funnel.rects("step")
        #expect(rects.compactMap { Double($0["width"] ?? "") } == [360, 270, 90])
        let centres = rects.map { Double($0["x"]!)! + Double($0["width"]!)! / 2 }
        #expect(Set(centres).count == 1, "a funnel's steps are centred on one axis")
        #expect(funnel.texts("value") == ["20（100%）", "15（75%）", "5（25%）"])
        #expect(funnel.texts("label") == steps.map(\.label))
    }

    @Test("empty data and all-zero data draw without dividing by zero")
    func emptyAndZero() throws {
        for chart in [SVGChart.bars(title: "空", items: []), SVGChart.horizontalBars(title: "空", items: []), SVGChart.funnel(title: "空", steps: [])] {
            let parsed = try ParsedSVG.parse(chart)
            #expect(parsed.texts("empty") == ["暂无数据"])
            #expect(parsed.rects("bar").isEmpty && parsed.rects("step").isEmpty)
        }
        let zeros = try ParsedSVG.parse(SVGChart.bars(title: "零", items: [ChartItem("a", 0), ChartItem("b", 0)]))
        #expect(zeros.rects("bar").map { $0["height"] } == ["0", "0"])
        let funnel = try ParsedSVG.parse(SVGChart.funnel(title: "零", steps: [ChartItem("提交申请", 0), ChartItem("开会通过", 0)]))
        #expect(funnel.rects("step").map { $0["width"] } == ["0", "0"])
        #expect(funnel.texts("value") == ["0（—）", "0（—）"])
        let negative = try ParsedSVG.parse(SVGChart.bars(title: "负", items: [ChartItem("a", -5), ChartItem("b", 5)]))
        #expect(negative.rects("bar").map { $0["height"] } == ["0", "200"], "a negative count draws as zero, not below the axis")
        for chart in [SVGChart.bars, SVGChart.horizontalBars, SVGChart.funnel] {
            #expect(!chart("x", [ChartItem("a", 0)]).contains("nan") && !chart("x", [ChartItem("a", 0)]).contains("inf"))
        }
    }

    @Test("a shop name with <&\"' and control characters stays text: well-formed XML, no markup injected, read back as written")
    func escaping() throws {
        let hostile = "<script>alert(1)</script> & \"老兵\" 'x' \u{1B}[31m"
        for svg in [
            SVGChart.bars(title: hostile, items: [ChartItem(hostile, 3)]),
            SVGChart.horizontalBars(title: hostile, items: [ChartItem(hostile, 3)]),
            SVGChart.funnel(title: hostile, steps: [ChartItem(hostile, 3)]),
        ] {
            #expect(!svg.contains("<script"))
            #expect(!svg.contains("\u{1B}"))
            #expect(svg.contains("&lt;script&gt;") && svg.contains("&amp;") && svg.contains("&quot;老兵&quot;"))
            let parsed = try ParsedSVG.parse(svg)
            #expect(parsed.texts("title") == [hostile.replacingOccurrences(of: "\u{1B}", with: "\u{FFFD}")])
            #expect(!parsed.elements.contains { $0.name == "script" })
        }
        #expect(SVGChart.escape("a<b&c\"d'e") == "a&lt;b&amp;c&quot;d&#39;e")
    }

    @Test("long labels are shortened on the chart but kept whole in the tooltip")
    func longLabels() throws {
        let name = "连州市一二三四五六七八九十号店"
        let svg = SVGChart.horizontalBars(title: "门店", items: [ChartItem(name, 1)])
        let parsed = try ParsedSVG.parse(svg)
        #expect(parsed.texts("label") == [String(name.prefix(9)) + "…"])
        #expect(svg.contains("<title>\(name): 1</title>"))
    }
}
