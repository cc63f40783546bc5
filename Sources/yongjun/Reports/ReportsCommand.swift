import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun reports`: what the bureau reports upwards.
struct ReportsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reports",
        abstract: "Batch outcomes, verification counts, and the partner-shop directory (table, --json or --csv).",
        subcommands: [ReportsBatch.self, ReportsVerifications.self, ReportsOfflineConflicts.self, ReportsMerchants.self, ReportsYear.self]
    )
}

struct ReportsBatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "A batch's outcome: applied, approved, rejected per stage, and every application.",
        discussion: "Example: yongjun reports batch 1 --csv > 第一批.csv"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Batch number.") var number: Int64

    struct Report: Encodable {
        let batch: Int64
        let status: String
        let openedOn: String
        let meetingDate: String?
        let applied: Int
        let approved: Int
        let rejected: Int
        let underReview: Int
        let stages: [String: Int]
        let rejectedAt: [String: Int]
        let applications: [ApplicationView]
    }

    func run() async throws {
        let number = number
        let (summary, applications) = try await global.withAdminStore { store in
            let summary = try await store.batchSummary(number)
            return (summary, try await ApplicationView.all(store.applications(batch: number, stage: nil, industry: nil), from: store))
        }
        let report = Report(
            batch: summary.number,
            status: summary.status,
            openedOn: summary.openedOn,
            meetingDate: summary.meetingDate,
            applied: summary.applied,
            approved: summary.approved,
            rejected: summary.rejected,
            underReview: summary.applied - summary.approved - summary.rejected,
            stages: summary.stages,
            rejectedAt: summary.rejectedAt,
            applications: applications
        )
        if output.json || output.csv {
            try output.emit(report, header: ApplicationView.header, rows: applications.map(\.row))
            return
        }
        print(
            "batch \(number): \(summary.applied) applied → \(summary.approved) approved, \(summary.rejected) rejected, \(report.underReview) under review"
        )
        printTable(["FIELD", "VALUE"], summary.fieldRows)
        print("")
        printTable(ApplicationView.header, applications.map(\.row))
    }
}

struct ReportsVerifications: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifications",
        abstract: "Verifications between two days (inclusive, China time): per shop, category, month, and by reason.",
        discussion: "Example: yongjun reports verifications --from 2026-11-01 --to 2026-11-30 --merchant 3 --csv"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "First day, YYYY-MM-DD.") var from: String
    @Option(help: "Last day, YYYY-MM-DD.") var to: String
    @Option(help: "Only this merchant id.") var merchant: Int64?

    func validate() throws {
        guard let start = CalendarDate(iso: from) else { throw ValidationError("--from \(from) is not a date written YYYY-MM-DD") }
        guard let end = CalendarDate(iso: to) else { throw ValidationError("--to \(to) is not a date written YYYY-MM-DD") }
        guard start <= end else { throw ValidationError("--from \(from) is after --to \(to)") }
    }

    func run() async throws {
        let (start, end) = (CalendarDate(iso: from)!, CalendarDate(iso: to)!)
        let report = try await global.withAdminStore { store in try await store.verificationReport(from: start, to: end, merchantID: merchant) }
        let sections: [(String, [VerificationTally])] = [
            ("merchant", report.byMerchant), ("category", report.byCategory), ("month", report.byMonth), ("result", report.byReason),
        ]
        let rows = sections.flatMap { name, tallies in
            tallies.map { [name, $0.key, $0.label, String($0.total), String($0.valid), String($0.rejected)] }
        }
        if output.json || output.csv {
            try output.emit(report, header: ["DIMENSION", "KEY", "LABEL", "TOTAL", "VALID", "REJECTED"], rows: rows)
            return
        }
        print(
            "verifications \(from) … \(to)\(merchant.map { ", merchant \($0)" } ?? ""): \(report.total) total, \(report.valid) valid, \(report.rejected) rejected"
                + (report.offline > 0 ? "; \(report.offline) made offline, \(report.flagged) flagged (see reports offline-conflicts)" : "")
        )
        for (name, tallies) in sections where !tallies.isEmpty {
            print("")
            printTable(
                [name.uppercased(), "LABEL", "TOTAL", "VALID", "REJECTED"],
                tallies.map { [$0.key, $0.label, String($0.total), String($0.valid), String($0.rejected)] }
            )
        }
    }
}

struct ReportsMerchants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchants",
        abstract: "The directory of active partner shops, by industry.",
        discussion: "Example: yongjun reports merchants --csv > 合作商户名录.csv"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let views = try await global.withAdminStore { store in try await store.merchants(status: .active, industry: nil) }.map(MerchantView.init)
            .sorted { ($0.industry, $0.id) < ($1.industry, $1.id) }
        try output.emit(
            views,
            header: ["ID", "NAME", "INDUSTRY", "ADDRESS", "BENEFIT", "PHONE", "BATCH"],
            rows: views.map {
                [String($0.id), $0.name, $0.industryLabel, $0.address ?? "", $0.benefit ?? "", $0.phone ?? "", $0.batch.map(String.init) ?? "-"]
            }
        )
    }
}

struct ReportsOfflineConflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline-conflicts",
        abstract: "Offline records the register disagrees with: a code used twice, a card revoked before, a shop not active.",
        discussion: """
            Shop devices verify without a network and upload their records later; the server re-checks each one at
            the time the device gives. Conflicts: already_used_here, card_revoked, card_expired, merchant_suspended,
            result_differs. Days count by when the record reached the server (China time); default the last 30 days.
            Example: yongjun reports offline-conflicts --from 2026-11-01 --to 2026-11-30 --csv
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "First day, YYYY-MM-DD (default 30 days ago).") var from: String?
    @Option(help: "Last day, YYYY-MM-DD (default today).") var to: String?
    @Option(help: "Only this merchant id.") var merchant: Int64?

    func validate() throws {
        if let from, CalendarDate(iso: from) == nil { throw ValidationError("--from \(from) is not a date written YYYY-MM-DD") }
        if let to, CalendarDate(iso: to) == nil { throw ValidationError("--to \(to) is not a date written YYYY-MM-DD") }
    }

    func run() async throws {
        let today = CalendarDate(chinaDayOf: Date())
        let start = from.flatMap(CalendarDate.init(iso:)) ?? CalendarDate(daysSinceEpoch: today.daysSinceEpoch - 30)
        let end = to.flatMap(CalendarDate.init(iso:)) ?? today
        guard start <= end else { throw CLIFailure(message: "--from \(start) is after --to \(end)") }
        let conflicts = try await global.withAdminStore { store in try await store.offlineConflicts(from: start, to: end, merchantID: merchant) }
        let header = ["VERIFICATION", "MERCHANT", "NAME", "VERIFIED_AT", "RECEIVED_AT", "CARD_NO", "DEVICE", "SERVER", "CONFLICT"]
        let rows = conflicts.map {
            [
                $0.verificationId, String($0.merchantId), $0.merchantName, $0.verifiedAt, $0.receivedAt, $0.cardNo ?? "", $0.deviceResult,
                $0.serverResult, $0.conflict,
            ]
        }
        if output.json || output.csv {
            try output.emit(conflicts, header: header, rows: rows)
            return
        }
        print("offline conflicts received \(start) … \(end)\(merchant.map { ", merchant \($0)" } ?? ""): \(conflicts.count)")
        if !conflicts.isEmpty { printTable(header, rows) }
    }
}
