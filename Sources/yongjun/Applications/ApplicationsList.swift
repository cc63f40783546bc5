import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// An application as scripts see it.
struct ApplicationView: Encodable {
    let id: Int64
    let batch: Int64
    let shopName: String
    let creditCode: String
    let industry: String
    let industryLabel: String
    let address: String
    let contact: String
    let phone: String
    let benefit: String
    let stage: String
    let stageLabel: String
    let status: String
    let rejectedAtStage: String?
    let rejectReason: String?
    let merchantId: Int64?
    let createdAt: String
    let updatedAt: String

    init(_ application: Application) {
        id = application.id ?? 0
        batch = application.batchNumber
        shopName = application.shopName
        creditCode = application.creditCode
        industry = application.industry.rawValue
        industryLabel = application.industry.label
        address = application.address
        contact = application.contact
        phone = application.phone
        benefit = application.benefit
        stage = application.stage.rawValue
        stageLabel = application.stage.label
        status = application.stage.isUnderReview ? "under_review" : application.stage.rawValue
        rejectedAtStage = application.rejectedAtStage?.rawValue
        rejectReason = application.rejectReason
        merchantId = application.merchantId
        createdAt = application.createdAt
        updatedAt = application.updatedAt
    }

    static let header = ["ID", "BATCH", "SHOP", "INDUSTRY", "STAGE", "NOTE"]

    var row: [String] {
        let note = rejectReason.map { "at \(rejectedAtStage ?? "?"): \($0)" } ?? merchantId.map { "merchant \($0)" } ?? ""
        return [String(id), String(batch), shopName, industryLabel, "\(stage) (\(stageLabel))", note]
    }
}

struct ApplicationsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List applications, filtered by batch, stage and industry.",
        discussion: "Example: yongjun applications list --batch 2 --stage inspection --json"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Batch number.") var batch: Int64?
    @Option(help: "Stage: \(ReviewStage.acceptedValues).") var stage: String?
    @Option(help: "Industry code or label.") var industry: String?

    func run() async throws {
        var stageFilter: ReviewStage?
        if let stage {
            guard let parsed = ReviewStage(codeOrLabel: stage) else {
                throw ValidationError("--stage \(stage) is not a stage; use one of \(ReviewStage.acceptedValues)")
            }
            stageFilter = parsed
        }
        let views = try global.openDatabase().applications(batch: batch, stage: stageFilter, industry: try parseIndustry(industry))
            .map(ApplicationView.init)
        try output.emit(views, header: ApplicationView.header, rows: views.map(\.row))
    }
}

struct ApplicationsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an application with its full history (who, when, note for each step).",
        discussion: "Example: yongjun applications show 12"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Application id.") var id: Int64

    struct Step: Encodable {
        let from: String?
        let to: String
        let note: String?
        let `operator`: String
        let at: String
    }

    struct Detail: Encodable {
        let application: ApplicationView
        let history: [Step]
    }

    func run() async throws {
        let history = try global.openDatabase().applicationHistory(id)
        let view = ApplicationView(history.application)
        let steps = history.events.map {
            Step(from: $0.fromStage?.rawValue, to: $0.toStage.rawValue, note: $0.note, operator: $0.operator, at: $0.at)
        }
        if output.json {
            try printJSON(Detail(application: view, history: steps))
            return
        }
        let rows = steps.map { [$0.at, ($0.from.map { "\($0) → " } ?? "") + $0.to, $0.operator, $0.note ?? ""] }
        if output.csv {
            printCSV(["AT (UTC)", "STEP", "OPERATOR", "NOTE"], rows)
            return
        }
        printLine("application \(view.id) — \(view.shopName) (batch \(view.batch))")
        printTable(
            ["FIELD", "VALUE"],
            [
                ["credit code", view.creditCode], ["industry", "\(view.industry) (\(view.industryLabel))"], ["address", view.address],
                ["contact", "\(view.contact) \(view.phone)"], ["benefit", view.benefit], ["stage", "\(view.stage) (\(view.stageLabel))"],
            ] + (view.rejectReason.map { [["rejected", "at \(view.rejectedAtStage ?? "?"): \($0)"]] } ?? [])
                + (view.merchantId.map { [["merchant", String($0)]] } ?? [])
        )
        print("")
        printTable(["AT (UTC)", "STEP", "OPERATOR", "NOTE"], rows)
    }
}
