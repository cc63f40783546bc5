import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsCode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Print a signed code for each card number given, one per line.",
        discussion:
            "Example: yongjun cards code LZ2024000123\nThe code is a JWS (EdDSA) that any JWT library can check against /.well-known/jwks.json."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Card number(s) (优待证号).")
    var cardNumbers: [String]

    @Option(help: "Seconds the code stays valid.")
    var lifetime = CodeIssuer.defaultLifetime

    func validate() throws {
        guard !cardNumbers.isEmpty else { throw ValidationError("give at least one card number") }
        guard (10...86_400).contains(lifetime) else { throw ValidationError("--lifetime must be 10-86400 seconds") }
    }

    func run() async throws {
        guard let key = try global.keyStore.loadKeyRing().current else { throw CLIFailure(message: "no signing key; run `yongjun keys init`") }
        let database = try global.openDatabase()
        let issuer = CodeIssuer(key: key, issuer: "yongjun", statusListURI: try database.statusListURIForCodes())
        let now = Date()
        var generator = SystemRandomNumberGenerator()
        var codes: [String] = []
        for cardNo in cardNumbers {
            let card = try database.cardForIssuing(number: cardNo, today: CalendarDate(chinaDayOf: now))
            codes.append(try issuer.issue(for: card.codeSubject, now: now, lifetime: lifetime, using: &generator).token)
        }
        print(codes.joined(separator: "\n"))
    }
}
