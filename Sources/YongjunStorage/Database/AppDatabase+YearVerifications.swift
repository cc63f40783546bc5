import Foundation
import GRDB
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

extension AppDatabase {
    static func yearVerifications(_ db: Database, year: String) throws -> YearReport.Verifications {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT merchant_id, CAST(strftime('%m', created_at, '+8 hours') AS INTEGER), valid, offline, COUNT(*)
                FROM verifications WHERE strftime('%Y', created_at, '+8 hours') = ?
                GROUP BY 1, 2, 3, 4
                """,
            arguments: [year]
        )
        let uniqueHolders =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(DISTINCT card_id) FROM verifications
                    WHERE valid = 1 AND card_id IS NOT NULL AND strftime('%Y', created_at, '+8 hours') = ?
                    """,
                arguments: [year]
            ) ?? 0
        var shops: [Int64: (name: String, industry: String, area: String)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, name, industry, address FROM merchants") {
            shops[row[0]] = (row[1], row[2], YearReport.area(ofAddress: row[3]))
        }
        var months = (1...12).map { VerificationTally(key: year + "-" + padded($0, 2), label: "\($0)月") }
        var industries = Industry.allCases.map { VerificationTally(key: $0.rawValue, label: $0.label) }
        var areas: [String: VerificationTally] = [:]
        var byShop: [Int64: VerificationTally] = [:]
        var summary = YearReport.Verifications(
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
            let merchant: Int64 = row[0]
            let month: Int = row[1] ?? 1
            let valid: Bool = row[2]
            let offline: Bool = row[3]
            let count: Int = row[4]
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
