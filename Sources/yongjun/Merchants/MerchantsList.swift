import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// A shop as shown to the bureau: everything but the key hash.
struct MerchantView: Encodable {
    let id: Int64
    let name: String
    let industry: String
    let industryLabel: String
    let address: String?
    let benefit: String?
    let status: String
    let statusReason: String?
    let creditCode: String?
    let contact: String?
    let phone: String?
    let batch: Int64?
    let applicationId: Int64?
    let hasKey: Bool
    let keyIssuedAt: String?
    let createdAt: String

    init(_ merchant: Merchant) {
        id = merchant.id ?? 0
        name = merchant.name
        industry = merchant.industry.rawValue
        industryLabel = merchant.industry.label
        address = merchant.address
        benefit = merchant.benefit
        status = merchant.status.rawValue
        statusReason = merchant.statusReason
        creditCode = merchant.creditCode
        contact = merchant.contact
        phone = merchant.phone
        batch = merchant.batchNumber
        applicationId = merchant.applicationId
        hasKey = merchant.apiKeyId != nil
        keyIssuedAt = merchant.apiKeyIssuedAt
        createdAt = merchant.createdAt
    }

    var row: [String] {
        [String(id), name, industryLabel, status, batch.map(String.init) ?? "-", hasKey ? "yes" : "no", benefit ?? ""]
    }

    static let header = ["ID", "NAME", "INDUSTRY", "STATUS", "BATCH", "KEY", "BENEFIT"]
}

struct MerchantsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List partner shops.",
        discussion: "Example: yongjun merchants list --status active --industry catering --json"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "active, suspended or revoked.") var status: String?
    @Option(help: "Industry code or label.") var industry: String?

    func run() async throws {
        var statusFilter: Merchant.Status?
        if let status {
            guard let parsed = Merchant.Status(rawValue: status) else {
                throw ValidationError("--status \(status) is not a status; use active, suspended or revoked")
            }
            statusFilter = parsed
        }
        let filter = (statusFilter, try parseIndustry(industry))
        let views = try await global.withAdminStore { store in try await store.merchants(status: filter.0, industry: filter.1) }.map(
            MerchantView.init
        )
        try output.emit(views, header: MerchantView.header, rows: views.map(\.row))
    }
}

struct MerchantsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one partner shop.",
        discussion: "Example: yongjun merchants show 3"
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "Merchant id.") var id: Int64

    func run() async throws {
        guard let merchant = try await global.withAdminStore({ store in try await store.merchant(id: id) }) else {
            throw CLIFailure(message: "no merchant with id \(id); `yongjun merchants list` shows them")
        }
        let view = MerchantView(merchant)
        let fields: [(String, String)] = [
            ("id", String(view.id)), ("name", view.name), ("industry", "\(view.industry) (\(view.industryLabel))"),
            ("status", view.status + (view.statusReason.map { " — \($0)" } ?? "")), ("address", view.address ?? ""),
            ("benefit", view.benefit ?? ""), ("credit code", view.creditCode ?? ""), ("contact", view.contact ?? ""),
            ("phone", view.phone ?? ""), ("batch", view.batch.map(String.init) ?? ""), ("key issued", view.keyIssuedAt ?? "never"),
            ("registered", view.createdAt),
        ]
        try output.emit(view, header: ["FIELD", "VALUE"], rows: fields.map { [$0.0, $0.1] })
    }
}

/// Parses an optional --industry value, naming the accepted ones when it is wrong.
func parseIndustry(_ text: String?) throws -> Industry? {
    guard let text else { return nil }
    guard let industry = Industry(codeOrLabel: text) else {
        throw ValidationError("--industry \(text) is not known; use one of \(Industry.acceptedValues)")
    }
    return industry
}
