import Foundation
import YongjunCore

extension YearReport {
    /// The town (…镇), township (…乡) or subdistrict (…街道) an address names first, or 其他.
    ///
    /// The name runs from after the last 省/市/县/区 before the marker and is one to five characters, so a road such
    /// as 镇南路 or 乡村大道 (nothing before the marker), or a house number such as 8号镇, is not taken for a town. Chinese
    /// numerals stay allowed: 三水瑶族乡, 九陂镇.
    public static func area(ofAddress address: String?) -> String {
        let characters = Array((address ?? "").filter { !$0.isWhitespace })
        for index in characters.indices {
            let marker: String
            if characters[index] == "镇" || characters[index] == "乡" {
                marker = String(characters[index])
            } else if characters[index] == "街", index + 1 < characters.count, characters[index + 1] == "道" {
                marker = "街道"
            } else {
                continue
            }
            let start = characters[..<index].lastIndex { "省市县区".contains($0) }.map { $0 + 1 } ?? 0
            let name = characters[start..<index]
            if (1...5).contains(name.count), !name.contains(where: { $0.isASCII ? $0.isNumber : ("０"..."９").contains($0) }) {
                return String(name) + marker
            }
        }
        return "其他"
    }
}

extension YearReport {
    /// Verifications of one shop in one China-time month with one result, as a store groups them.
    public struct VerificationGroup: Sendable, Equatable {
        public var merchantID: Int64
        /// 1…12 in China time.
        public var month: Int?
        public var valid: Bool
        public var offline: Bool
        public var count: Int

        public init(merchantID: Int64, month: Int?, valid: Bool, offline: Bool, count: Int) {
            self.merchantID = merchantID
            self.month = month
            self.valid = valid
            self.offline = offline
            self.count = count
        }
    }

    /// A shop as the year's verifications are filed under it.
    public struct Shop: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var industry: String
        public var address: String?

        public init(id: Int64, name: String, industry: String, address: String?) {
            self.id = id
            self.name = name
            self.industry = industry
            self.address = address
        }
    }

    /// The year's verifications counted by month, industry, area and shop; `uniqueHolders` as the store counted it.
    public static func verifications(year: Int, groups rows: [VerificationGroup], uniqueHolders: Int, shops list: [Shop]) -> Verifications {
        let year = padded(year, 4)
        var shops: [Int64: (name: String, industry: String, area: String)] = [:]
        for shop in list { shops[shop.id] = (shop.name, shop.industry, area(ofAddress: shop.address)) }
        var months = (1...12).map { VerificationTally(key: year + "-" + padded($0, 2), label: "\($0)月") }
        var industries = Industry.allCases.map { VerificationTally(key: $0.rawValue, label: $0.label) }
        var areas: [String: VerificationTally] = [:]
        var byShop: [Int64: VerificationTally] = [:]
        var summary = Verifications(
            total: 0,
            valid: 0,
            rejected: 0,
            offline: 0,
            offlineShare: 0,
            uniqueHolders: uniqueHolders,
            byMonth: [],
            byIndustry: [],
            byArea: [],
            topShops: []
        )
        for row in rows {
            let (merchant, month, valid, offline, count) = (row.merchantID, row.month ?? 1, row.valid, row.offline, row.count)
            func add(_ tally: inout VerificationTally) {
                tally.total += count
                if valid { tally.valid += count } else { tally.rejected += count }
            }
            let shop = shops[merchant] ?? ("?", "other", "其他")
            summary.total += count
            if valid { summary.valid += count } else { summary.rejected += count }
            if offline { summary.offline += count }
            add(&months[min(max(month, 1), 12) - 1])
            if let index = industries.firstIndex(where: { $0.key == shop.industry }) {
                add(&industries[index])
            } else {
                industries.append(VerificationTally(key: shop.industry, label: shop.industry))
                add(&industries[industries.count - 1])
            }
            add(&areas[shop.area, default: VerificationTally(key: shop.area, label: shop.area)])
            add(&byShop[merchant, default: VerificationTally(key: String(merchant), label: shop.name)])
        }
        summary.offlineShare = summary.total == 0 ? 0 : Double(summary.offline) / Double(summary.total)
        summary.byMonth = months
        summary.byIndustry = industries
        // Most valid verifications first; 其他 (no town in the address) last; ties by name or id, so the order is stable.
        summary.byArea = areas.values.sorted {
            ($0.key == "其他" ? 1 : 0, -$0.valid, -$0.total, $0.key) < ($1.key == "其他" ? 1 : 0, -$1.valid, -$1.total, $1.key)
        }
        summary.topShops = Array(
            byShop.filter { $0.value.valid > 0 }.sorted { (-$0.value.valid, $0.key) < (-$1.value.valid, $1.key) }.map(\.value).prefix(10)
        )
        return summary
    }
}
