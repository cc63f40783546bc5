import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun batches`: rounds of shop applications.
struct BatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batches",
        abstract: "Open, list, show, close and approve batches of shop applications.",
        subcommands: [BatchesOpen.self, BatchesList.self, BatchesShow.self, BatchesClose.self, BatchesApprove.self]
    )
}

struct BatchesOpen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Open a new batch and print its number (one batch takes applications at a time).",
        discussion: "Example: yongjun batches open"
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let audit = try global.audit()
        let batch = try await global.withAdminStore { store in
            try await store.openBatch(today: CalendarDate(chinaDayOf: Date()), now: Date(), audit: audit)
        }
        print(batch.number ?? 0)
    }
}

struct BatchesClose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Stop a batch taking applications; reviews and the meeting go on.",
        discussion: "Example: yongjun batches close 2"
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Batch number.") var number: Int64

    func run() async throws {
        let audit = try global.audit()
        _ = try await global.withAdminStore { store in
            try await store.closeBatch(number, today: CalendarDate(chinaDayOf: Date()), now: Date(), audit: audit)
        }
        print("batch \(number) closed")
    }
}

struct BatchesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List batches with their live counts per stage.",
        discussion: "Example: yongjun batches list --json"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let summaries = try await global.withAdminStore { store in try await store.batchSummaries() }
        try output.emit(summaries, header: BatchSummary.tableHeader, rows: summaries.map(\.tableRow))
    }
}

struct BatchesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one batch: dates and counts per stage.",
        discussion: "Example: yongjun batches show 1"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Batch number.") var number: Int64

    func run() async throws {
        let summary = try await global.withAdminStore { store in try await store.batchSummary(number) }
        try output.emit(summary, header: ["FIELD", "VALUE"], rows: summary.fieldRows)
    }
}

struct BatchesApprove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "开会通过: make every application at discussion (or only --only ones) an active partner shop, in one step.",
        discussion: """
            Example: yongjun batches approve 1 --meeting-date 2026-08-06
                     yongjun batches approve 2 --meeting-date 2026-12-10 --only 21,23,30
            Prints the batch summary. Then issue each new shop its key with `yongjun merchants key ID`.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Batch number.") var number: Int64
    @Option(help: "Day of the meeting, YYYY-MM-DD.") var meetingDate: String
    @Option(help: "Comma-separated application ids to approve; the others at discussion stay there.") var only: String?

    func validate() throws {
        guard CalendarDate(iso: meetingDate) != nil else { throw ValidationError("--meeting-date \(meetingDate) is not a date written YYYY-MM-DD") }
        if let only, only.split(separator: ",").contains(where: { Int64($0.trimmingCharacters(in: .whitespaces)) == nil }) {
            throw ValidationError("--only takes application ids separated by commas, e.g. --only 3,5,8")
        }
    }

    func run() async throws {
        let ids = only.map { $0.split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) } }
        let audit = try global.audit()
        let day = CalendarDate(iso: meetingDate)!
        let (merchants, summary) = try await global.withAdminStore { store in
            try await store.approveBatch(number, meetingDate: day, only: ids, now: Date(), audit: audit)
        }
        if output.json {
            try printJSON(ApprovalResult(summary: summary, merchants: merchants.map(MerchantView.init)))
            return
        }
        print("batch \(number): \(summary.applied) applied → \(summary.approved) approved (meeting \(meetingDate))")
        printTable(["APPLICATION", "MERCHANT", "SHOP"], merchants.map { [String($0.applicationId ?? 0), String($0.id ?? 0), $0.name] })
        print("")
        printTable(["FIELD", "VALUE"], summary.fieldRows)
    }

    struct ApprovalResult: Encodable {
        let summary: BatchSummary
        let merchants: [MerchantView]
    }
}

extension BatchSummary {
    static let tableHeader = [
        "BATCH", "STATUS", "OPENED", "MEETING", "APPLIED", "MATERIALS", "QUALIF.", "INSPECT.", "DISCUSS.", "APPROVED", "REJECTED",
    ]

    var tableRow: [String] {
        [String(number), status, openedOn, meetingDate ?? "-", String(applied)]
            + ["materials", "qualification", "inspection", "discussion", "approved", "rejected"].map { String(stages[$0] ?? 0) }
    }

    var fieldRows: [[String]] {
        var rows = [
            ["batch", String(number)], ["status", status], ["opened", openedOn], ["closed", closedOn ?? "-"], ["meeting", meetingDate ?? "-"],
            ["applied", String(applied)], ["approved", String(approved)], ["rejected", String(rejected)],
        ]
        for stage in ReviewStage.reviewOrder {
            rows.append(["at \(stage.rawValue) (\(stage.label))", String(stages[stage.rawValue] ?? 0)])
        }
        for stage in ReviewStage.reviewOrder {
            rows.append(["rejected at \(stage.rawValue)", String(rejectedAt[stage.rawValue] ?? 0)])
        }
        return rows
    }
}
