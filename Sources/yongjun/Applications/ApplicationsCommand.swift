import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun applications`: shop applications through the five stages.
struct ApplicationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "applications",
        abstract: "Import shop applications and move them through 收集资料 → 资格审核 → 实地考核 → 讨论方案.",
        subcommands: [ApplicationsImport.self, ApplicationsList.self, ApplicationsShow.self, ApplicationsAdvance.self, ApplicationsReject.self]
    )
}

struct ApplicationsImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import applications into an open batch (all rows or none); each starts at materials (收集资料).",
        discussion: """
            The first row names the columns, in English or Chinese, in any order:
              shop_name,credit_code,industry,address,contact,phone,benefit
              门店名称,统一社会信用代码,行业,地址,联系人,联系电话,优惠内容
            credit_code is checked against the GB 32100 check character. industry takes a code or label:
            \(Industry.acceptedValues).
            The file may be UTF-8 (with or without BOM) or GB18030/GBK as Excel saves it; --encoding overrides.

            Example: yongjun applications import --batch 2 第二批申请.csv
            """
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Batch number (must be open).") var batch: Int64
    @Argument(help: "The CSV file.") var file: String
    @Option(help: "utf-8 or gb18030 (gbk); detected when left out.") var encoding: String?

    func run() async throws {
        let text = try readCSVFile(file, encoding: encoding)
        let progress = Progress("checked rows")
        let parsed = ApplicationImport.parse(text, progress: progress.update)
        guard parsed.problems.isEmpty else { throw refuseImport(file, parsed.problems) }
        do {
            let audit = try global.audit()
            let (imported, reviews) = try await global.withAdminStore { store in
                let imported = try await store.importApplications(
                    parsed.applications,
                    batch: batch,
                    now: Date(),
                    audit: audit,
                    source: (file as NSString).lastPathComponent
                )
                return (imported, try await store.applicationReviews(imported))
            }
            let ids = imported.compactMap(\.id)
            print("imported \(imported.count) application(s) into batch \(batch)" + (ids.isEmpty ? "" : " (ids \(ids.first!)–\(ids.last!))"))
            let duplicates = reviews.filter { $0.value.duplicateOf != nil }.keys.sorted()
            if !duplicates.isEmpty {
                print(
                    "\(duplicates.count) of them share a credit code with an earlier application in the batch (\(duplicates.map { "#\($0)" }.joined(separator: ", "))); "
                        + "`yongjun applications show ID` puts them side by side"
                )
            }
        } catch let conflicts as ImportConflicts {
            throw refuseImport(file, conflicts.problems)
        }
    }
}

struct ApplicationsAdvance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advance",
        abstract: "Move an application to the next stage (stages cannot be skipped; the meeting approves).",
        discussion: "Example: yongjun applications advance 12 --note \"营业执照、卫生许可证齐全\""
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Application id.") var id: Int64
    @Option(help: "What was checked, for the history.") var note: String?

    func run() async throws {
        let audit = try global.audit()
        let application = try await global.withAdminStore { store in
            try await store.advanceApplication(id, note: note, now: Date(), audit: audit)
        }
        printLine("application \(id) (\(application.shopName)) is now at \(application.stage.rawValue) (\(application.stage.label))")
    }
}

struct ApplicationsReject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Turn an application down at its current stage, with a reason.",
        discussion: "Example: yongjun applications reject 14 --stage inspection --reason \"实地考核发现无实体门店\""
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Application id.") var id: Int64
    @Option(help: "The stage it is at (a check against typos): \(ReviewStage.reviewOrder.map(\.rawValue).joined(separator: ", ")).")
    var stage: String?
    @Option(help: "Why (shown in its history and reports).") var reason: String

    func validate() throws {
        try requireReason(reason)
        if let stage, !(ReviewStage(codeOrLabel: stage)?.isUnderReview ?? false) {
            throw ValidationError("--stage \(stage) is not a review stage; use one of materials, qualification, inspection, discussion")
        }
    }

    func run() async throws {
        let audit = try global.audit()
        let expected = stage.flatMap(ReviewStage.init(codeOrLabel:))
        let application = try await global.withAdminStore { store in
            try await store.rejectApplication(id, atStage: expected, reason: reason, now: Date(), audit: audit)
        }
        printLine("application \(id) (\(application.shopName)) rejected at \(application.rejectedAtStage?.rawValue ?? "?")")
    }
}
