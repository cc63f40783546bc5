import Foundation

/// One bar of a chart, or one step of a funnel: what it is and how many.
public struct ChartItem: Sendable, Equatable {
    public var label: String
    public var value: Int

    public init(_ label: String, _ value: Int) {
        self.label = label
        self.value = value
    }
}

/// Inline SVG charts for printed reports: black-and-white friendly (grey fills, black outlines, every value written
/// as a number), sized by `viewBox` so they scale to the page, with all text escaped for XML and HTML.
///
/// Bars are drawn to scale: a bar's length is `value / largest value` of the drawing area, so zero draws nothing and
/// an all-zero or empty chart divides by nothing. Negative values are drawn as zero.
public enum SVGChart {
    static let width = 640
    /// Vertical bars' full height, and horizontal bars' full length, in SVG units.
    static let plotHeight = 200
    static let plotLength = 400
    /// Narrower than bars: a funnel's value also carries its share, "12（100%）".
    static let funnelLength = 360
    static let font = "font-family=\"Noto Sans CJK SC, Source Han Sans SC, sans-serif\""

    /// Vertical bars with the label under each bar and its value above (months, industries).
    public static func bars(title: String, items: [ChartItem]) -> String {
        let top = 50
        let height = top + plotHeight + 40
        guard !items.isEmpty else { return empty(title: title, height: 90) }
        let largest = max(1, items.map(\.value).max() ?? 0)
        let slot = Double(width - 40) / Double(items.count)
        let barWidth = min(60, slot * 0.7)
        var body = "<line x1=\"20\" y1=\"\(top + plotHeight)\" x2=\"\(width - 20)\" y2=\"\(top + plotHeight)\" stroke=\"#000\"/>"
        for (index, item) in items.enumerated() {
            let length = scaled(item.value, largest, plotHeight)
            let x = 20 + slot * Double(index) + (slot - barWidth) / 2
            let centre = number(x + barWidth / 2)
            let y = Double(top + plotHeight) - length
            body += "<g><title>\(escape(item.label)): \(max(0, item.value))</title>"
            body += "<rect class=\"bar\" x=\"\(number(x))\" y=\"\(number(y))\" width=\"\(number(barWidth))\" height=\"\(number(length))\""
            body += " fill=\"#9a9a9a\" stroke=\"#000\" stroke-width=\"1\"/>"
            body +=
                "<text class=\"value\" x=\"\(centre)\" y=\"\(number(y - 5))\" text-anchor=\"middle\" font-size=\"13\">\(max(0, item.value))</text>"
            body += "<text class=\"label\" x=\"\(centre)\" y=\"\(top + plotHeight + 20)\" text-anchor=\"middle\" font-size=\"12\">"
            body += "\(escape(short(item.label, 6)))</text></g>"
        }
        return svg(title: title, height: height, body: body)
    }

    /// Horizontal bars with the label on the left and the value after each bar (towns, shops: long labels, many rows).
    public static func horizontalBars(title: String, items: [ChartItem]) -> String {
        guard !items.isEmpty else { return empty(title: title, height: 90) }
        let largest = max(1, items.map(\.value).max() ?? 0)
        let row = 26
        let left = 150
        var body = ""
        for (index, item) in items.enumerated() {
            let y = 40 + index * row
            let length = scaled(item.value, largest, plotLength)
            body += "<g><title>\(escape(item.label)): \(max(0, item.value))</title>"
            body +=
                "<text class=\"label\" x=\"\(left - 8)\" y=\"\(y + 15)\" text-anchor=\"end\" font-size=\"13\">\(escape(short(item.label, 10)))</text>"
            body += "<rect class=\"bar\" x=\"\(left)\" y=\"\(y + 2)\" width=\"\(number(length))\" height=\"\(row - 8)\""
            body += " fill=\"#9a9a9a\" stroke=\"#000\" stroke-width=\"1\"/>"
            body +=
                "<text class=\"value\" x=\"\(number(Double(left) + length + 6))\" y=\"\(y + 15)\" font-size=\"13\">\(max(0, item.value))</text></g>"
        }
        return svg(title: title, height: 50 + items.count * row, body: body)
    }

    /// A funnel: each step a centred bar as wide as its share of the first step, with its count and that share.
    public static func funnel(title: String, steps: [ChartItem]) -> String {
        guard !steps.isEmpty else { return empty(title: title, height: 90) }
        let first = max(0, steps[0].value)
        let largest = max(1, steps.map(\.value).max() ?? 0)
        let row = 44
        let shades = ["#d9d9d9", "#c4c4c4", "#afafaf", "#9a9a9a", "#858585", "#707070"]
        var body = ""
        for (index, step) in steps.enumerated() {
            let y = 40 + index * row
            let length = scaled(step.value, largest, funnelLength)
            let x = 160 + (Double(funnelLength) - length) / 2
            let share = first == 0 ? "—" : "\(Int((Double(max(0, step.value)) * 100 / Double(first)).rounded()))%"
            body += "<g><title>\(escape(step.label)): \(max(0, step.value))</title>"
            body += "<text class=\"label\" x=\"150\" y=\"\(y + 24)\" text-anchor=\"end\" font-size=\"14\">\(escape(short(step.label, 10)))</text>"
            body += "<rect class=\"step\" x=\"\(number(x))\" y=\"\(y)\" width=\"\(number(length))\" height=\"\(row - 8)\""
            body += " fill=\"\(shades[index % shades.count])\" stroke=\"#000\" stroke-width=\"1\"/>"
            body +=
                "<text class=\"value\" x=\"\(160 + funnelLength + 10)\" y=\"\(y + 24)\" font-size=\"14\">\(max(0, step.value))（\(share)）</text></g>"
        }
        return svg(title: title, height: 50 + steps.count * row, body: body)
    }

    /// Text made safe inside SVG elements and attributes, both as XML and inline in HTML: the HTML escapes, plus
    /// control characters XML 1.0 forbids replaced by U+FFFD.
    public static func escape(_ text: String) -> String {
        let cleaned = String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r" || scalar.value == 0xFFFE || scalar.value == 0xFFFF
                        ? "\u{FFFD}" : scalar
                }
            )
        )
        return HTMLText.escape(cleaned).replacingOccurrences(of: "'", with: "&#39;")
    }

    static func svg(title: String, height: Int, body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(width) \(height)" width="100%" role="img" \
        \(font)><title>\(escape(title))</title><text class="title" x="\(width / 2)" y="22" text-anchor="middle" font-size="16" \
        font-weight="bold">\(escape(title))</text>\(body)</svg>
        """
    }

    static func empty(title: String, height: Int) -> String {
        svg(
            title: title,
            height: height,
            body: "<text class=\"empty\" x=\"\(width / 2)\" y=\"60\" text-anchor=\"middle\" font-size=\"14\">暂无数据</text>"
        )
    }

    /// `value`'s share of `largest`, as a length out of `full`; never divides by zero (largest is at least 1).
    static func scaled(_ value: Int, _ largest: Int, _ full: Int) -> Double {
        Double(max(0, value)) * Double(full) / Double(max(1, largest))
    }

    /// A coordinate with at most one decimal, without a trailing ".0".
    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : (tenths < 0 && tenths > -10 ? "-" : "") + "\(tenths / 10).\(abs(tenths % 10))"
    }

    static func short(_ label: String, _ limit: Int) -> String {
        label.count <= limit ? label : String(label.prefix(limit - 1)) + "…"
    }
}
