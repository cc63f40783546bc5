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
    /// The number the applicant was given (YJ-batch-id).
    let reference: String
    /// The earlier application in the same batch with the same credit code, if any.
    let duplicateOf: Int64?
    /// Every other application in the same batch with the same credit code.
    let sameCreditCode: [Int64]
    /// The applicant's phone against the one on file for the credit code.
    let phoneCheck: String

    init(_ application: Application, review: ApplicationReview?) {
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
        reference = application.reference
        duplicateOf = review?.duplicateOf
        sameCreditCode = review?.sameCreditCode ?? []
        phoneCheck = review?.phoneCheck.description ?? ""
    }

    /// Views of `applications` with their reviews, read in one go.
    static func all(_ applications: [Application], from store: any ReviewStore) async throws -> [ApplicationView] {
        views(applications, reviews: try await store.applicationReviews(applications))
    }

    /// The same on SQLite alone, for `reports batch` while it still opens the SQLite file itself (then `from: store`).
    static func all(_ applications: [Application], in database: AppDatabase) throws -> [ApplicationView] {
        views(applications, reviews: try database.applicationReviews(applications))
    }

    private static func views(_ applications: [Application], reviews: [Int64: ApplicationReview]) -> [ApplicationView] {
        applications.map { ApplicationView($0, review: $0.id.flatMap { reviews[$0] }) }
    }

    static let header = ["ID", "BATCH", "SHOP", "INDUSTRY", "STAGE", "NOTE"]

    var row: [String] {
        let outcome = rejectReason.map { "at \(rejectedAtStage ?? "?"): \($0)" } ?? merchantId.map { "merchant \($0)" }
        let flag =
            duplicateOf.map { "duplicate of #\($0)" }
            ?? (sameCreditCode.isEmpty ? nil : "same credit code as " + sameCreditCode.map { "#\($0)" }.joined(separator: ", "))
        return [
            String(id), String(batch), shopName, industryLabel, "\(stage) (\(stageLabel))",
            [flag, outcome].compactMap { $0 }.joined(separator: "; "),
        ]
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
        let industryFilter = try parseIndustry(industry)
        let views = try await global.withAdminStore { store in
            try await ApplicationView.all(store.applications(batch: batch, stage: stageFilter, industry: industryFilter), from: store)
        }
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
        /// The other applications in the batch with the same credit code, so the reviewer sees both side by side.
        let sameCreditCode: [ApplicationView]
    }

    func run() async throws {
        let (history, view, others) = try await global.withAdminStore { store in
            let history = try await store.applicationHistory(id)
            let view = try await ApplicationView.all([history.application], from: store)[0]
            var sameCode: [Application] = []
            for other in view.sameCreditCode { sameCode.append(try await store.applicationHistory(other).application) }
            return (history, view, try await ApplicationView.all(sameCode, from: store))
        }
        let steps = history.events.map {
            Step(from: $0.fromStage?.rawValue, to: $0.toStage.rawValue, note: $0.note, operator: $0.operator, at: $0.at)
        }
        if output.json {
            try printJSON(Detail(application: view, history: steps, sameCreditCode: others))
            return
        }
        let rows = steps.map { [$0.at, ($0.from.map { "\($0) → " } ?? "") + $0.to, $0.operator, $0.note ?? ""] }
        if output.csv {
            printCSV(["AT (UTC)", "STEP", "OPERATOR", "NOTE"], rows)
            return
        }
        printLine("application \(view.id) — \(view.shopName) (batch \(view.batch), reference \(view.reference))")
        printTable(
            ["FIELD", "VALUE"],
            [
                ["credit code", view.creditCode], ["industry", "\(view.industry) (\(view.industryLabel))"], ["address", view.address],
                ["contact", "\(view.contact) \(view.phone)"], ["phone check", view.phoneCheck], ["benefit", view.benefit],
                ["stage", "\(view.stage) (\(view.stageLabel))"],
            ] + (view.duplicateOf.map { [["duplicate of", "#\($0) — the bureau decides which is the shop; reject the other with a reason"]] } ?? [])
                + (view.rejectReason.map { [["rejected", "at \(view.rejectedAtStage ?? "?"): \($0)"]] } ?? [])
                + (view.merchantId.map { [["merchant", String($0)]] } ?? [])
        )
        print("")
        printTable(["AT (UTC)", "STEP", "OPERATOR", "NOTE"], rows)
        if !others.isEmpty {
            print("")
            print("same credit code in this batch:")
            printTable(
                ["ID", "REFERENCE", "SHOP", "CONTACT", "PHONE", "PHONE CHECK", "STAGE"],
                ([view] + others).map {
                    [String($0.id), $0.reference, $0.shopName, $0.contact, $0.phone, $0.phoneCheck, "\($0.stage) (\($0.stageLabel))"]
                }
            )
        }
    }
}
