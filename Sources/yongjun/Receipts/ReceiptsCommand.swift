import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

/// `yongjun receipts`: the bureau checks a receipt a holder shows.
struct ReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts",
        abstract: "Check holders' receipts of verifications.",
        subcommands: [ReceiptsVerify.self]
    )
}

struct ReceiptsVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a receipt (a file holding it, or the token itself): signature, and that it matches the record.",
        discussion: """
            A receipt is what a holder's /card/history shows for a verification that gave a benefit: a JWS signed with
            the bureau's key naming the shop, the time, the verification id, the benefit and the holder's pseudonym at
            that shop. Exit status 0 when genuine and matching the record, 1 otherwise (with the reason).
            Example: yongjun receipts verify 收据.txt
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A file containing the receipt, or the receipt itself (eyJ…).") var receipt: String

    func run() async throws {
        var token = receipt.trimmingCharacters(in: .whitespacesAndNewlines)
        if !token.hasPrefix("eyJ") {
            guard let data = FileManager.default.contents(atPath: receipt) else {
                throw CLIFailure(message: "\(receipt) is neither a receipt (eyJ…) nor a readable file")
            }
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let ring = try global.keyStore.loadKeyRing()
        let claims: ReceiptClaims
        switch ReceiptClaims.open(token, keys: ring.trusted) {
        case .success(let opened): claims = opened
        case .failure(.badSignature): throw CLIFailure(message: "NOT GENUINE: the signature does not match the receipt (altered, or not ours)")
        case .failure(.unknownKey): throw CLIFailure(message: "NOT GENUINE: signed with a key this data directory does not have")
        case .failure: throw CLIFailure(message: "NOT A RECEIPT: not a Yongjun receipt token")
        }
        let vid = claims.vid
        guard let record = try await global.withAdminStore({ store in try await store.recordedVerification(id: vid) }) else {
            throw CLIFailure(message: "NO RECORD: the signature holds, but verification \(claims.vid) is not in this register")
        }
        var differences: [String] = []
        if record.merchantID != claims.shop.id { differences.append("shop \(claims.shop.id) (record: \(record.merchantID))") }
        if record.createdAt != claims.at { differences.append("time \(claims.at) (record: \(record.createdAt))") }
        if record.benefit != claims.benefit { differences.append("benefit \(claims.benefit ?? "-") (record: \(record.benefit ?? "-"))") }
        if !record.valid || record.eligible == false { differences.append("the record is not a verification that gave a benefit") }
        let pseudonyms = try global.keyStore.holderPseudonyms()
        if record.cardID.map({ pseudonyms.pseudonym(cardID: $0, merchantID: record.merchantID) }) != claims.holder {
            differences.append("holder \(claims.holder) is not the card on record")
        }
        guard differences.isEmpty else {
            throw CLIFailure(message: "DOES NOT MATCH the record: " + differences.map(TerminalText.escape).joined(separator: "; "))
        }
        print(
            "genuine: \(TerminalText.escape(claims.shop.name)) (shop \(claims.shop.id)), \(claims.at), "
                + "\(TerminalText.escape(claims.benefit ?? "no benefit text")), verification \(claims.vid), holder \(claims.holder)"
        )
    }
}
