import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct ReportsYear: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "year",
        abstract: "The yearly figures: cards by category, partner shops, verifications, the review funnel (China-time year).",
        discussion: """
            Cards issued in the year and active at its end (or today, while the year runs); shops by batch and by \
            industry; verifications per month, industry, town (镇/乡/街道 in the shop's address), the top 10 shops, \
            holders served and the offline share; the review funnel of the year's batches. --html FILE also writes \
            a self-contained page with charts that prints on A4.

            Example: yongjun reports year 2024 --html 2024年度拥军数据.html
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Calendar year, e.g. 2024.") var year: Int
    @Option(help: "Also write a printable A4 HTML report with charts to this file (replaced atomically).") var html: String?

    func validate() throws {
        guard (2000...9999).contains(year) else { throw ValidationError("year \(year) is not a year the programme ran; give it as 2024") }
    }

    func run() async throws {
        let now = Date()
        let today = CalendarDate(chinaDayOf: now)
        guard year <= today.year else { throw CLIFailure(message: "\(year) has not begun (today is \(today), China time)") }
        let report = try await global.withAdminStore { store in try await store.yearReport(year: year, today: today) }
        if let html {
            try writeReplacing(Data(YearReportPage.document(report, generatedOn: today).utf8), at: html)
            let note = "wrote the \(year) report with charts to \(html)"
            if output.json || output.csv { FileHandle.standardError.write(Data((TerminalText.escape(note) + "\n").utf8)) } else { printLine(note) }
        }
        if output.json {
            try printJSON(report)
        } else if output.csv {
            printCSV(["SECTION", "KEY", "LABEL", "MEASURE", "VALUE"], Self.csvRows(report))
        } else {
            printTables(report)
        }
    }

    /// One figure per row, so Excel can pivot it whatever the section.
    static func csvRows(_ report: YearReport) -> [[String]] {
        let verifications = report.verifications
        var rows: [[String]] = [
            ["summary", "cards", "优待证", "issued", String(report.cards.issued)], ["summary", "cards", "优待证", "active", String(report.cards.active)],
            ["summary", "shops", "合作商户", "active", String(report.shops.active)],
            ["summary", "verifications", "核验", "total", String(verifications.total)],
            ["summary", "verifications", "核验", "valid", String(verifications.valid)],
            ["summary", "verifications", "核验", "offline", String(verifications.offline)],
            ["summary", "holders", "服务持证人", "unique", String(verifications.uniqueHolders)],
        ]
        for card in report.cards.byCategory {
            rows += [
                ["category", card.category, card.label, "issued", String(card.issued)],
                ["category", card.category, card.label, "active", String(card.active)],
            ]
        }
        for batch in report.shops.byBatch {
            for (measure, value) in [
                ("applied", batch.applied), ("approved", batch.approved), ("rejected", batch.rejected), ("under_review", batch.underReview),
            ] {
                rows.append(["batch", String(batch.batch), "第\(batch.batch)批", measure, String(value)])
            }
        }
        rows += report.shops.byIndustry.map { ["shops_by_industry", $0.key, $0.label, "active", String($0.count)] }
        for (section, tallies) in [
            ("month", verifications.byMonth), ("industry", verifications.byIndustry), ("area", verifications.byArea),
            ("top_shop", verifications.topShops),
        ] {
            for tally in tallies {
                rows += [
                    [section, tally.key, tally.label, "total", String(tally.total)], [section, tally.key, tally.label, "valid", String(tally.valid)],
                ]
            }
        }
        rows += report.funnel.map { ["funnel", $0.key, $0.label, "reached", String($0.count)] }
        return rows
    }

    func printTables(_ report: YearReport) {
        let v = report.verifications
        printLine(
            "year \(report.year) (active as of \(report.asOf)): \(report.cards.issued) cards issued, \(report.cards.active) active; "
                + "\(report.shops.active) active shops; \(v.total) verifications (\(v.valid) valid), \(v.uniqueHolders) holders served, "
                + "\(YearReportPage.percent(v.offlineShare)) offline"
        )
        let sections: [([String], [[String]])] = [
            (
                ["CATEGORY", "LABEL", "ISSUED", "ACTIVE"],
                report.cards.byCategory.map { [$0.category, $0.label, String($0.issued), String($0.active)] }
            ),
            (
                ["BATCH", "OPENED", "MEETING", "APPLIED", "APPROVED", "REJECTED", "UNDER_REVIEW"],
                report.shops.byBatch.map {
                    [
                        String($0.batch), $0.openedOn, $0.meetingDate ?? "-", String($0.applied), String($0.approved), String($0.rejected),
                        String($0.underReview),
                    ]
                }
            ),
            (["INDUSTRY", "LABEL", "ACTIVE_SHOPS"], report.shops.byIndustry.map { [$0.key, $0.label, String($0.count)] }),
            (["MONTH", "TOTAL", "VALID", "REJECTED"], v.byMonth.map { [$0.key, String($0.total), String($0.valid), String($0.rejected)] }),
            (["INDUSTRY", "LABEL", "TOTAL", "VALID"], v.byIndustry.map { [$0.key, $0.label, String($0.total), String($0.valid)] }),
            (["AREA", "TOTAL", "VALID"], v.byArea.map { [$0.label, String($0.total), String($0.valid)] }),
            (
                ["RANK", "MERCHANT", "NAME", "VALID", "TOTAL"],
                v.topShops.enumerated().map { [String($0 + 1), $1.key, $1.label, String($1.valid), String($1.total)] }
            ),
            (["STAGE", "LABEL", "REACHED"], report.funnel.map { [$0.key, $0.label, String($0.count)] }),
        ]
        for (header, rows) in sections where !rows.isEmpty {
            print("")
            printTable(header, rows)
        }
    }
}

/// Replaces `path` with `data` in one step: a new temporary file beside it (never through a symlink), fsynced, then
/// renamed over it, so a reader sees the old report or the new one, never half of one. Mode 0644: it is for sharing.
func writeReplacing(_ data: Data, at path: String) throws {
    let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw CLIFailure(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
    fchmod(descriptor, 0o644)
    let written = data.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
    let synced = fsync(descriptor)
    close(descriptor)
    guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw CLIFailure(message: "cannot write \(path): \(reason)")
    }
}
