import ArgumentParser
import Foundation
import YongjunCore
import YongjunStorage

struct CardsCode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code",
        abstract: "Print a signed code for each card number given, one per line.",
        discussion: """
            Example: yongjun cards code LZ2024000123
                     yongjun cards code --numbers 第一批.txt      (one card number a line; - reads standard input)
            The code is a JWS (EdDSA) that any JWT library can check against /.well-known/jwks.json.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Card number(s) (优待证号).")
    var cardNumbers: [String] = []

    @Option(help: CardNumberFile.help)
    var numbers: String?

    @Option(help: "Seconds the code stays valid.")
    var lifetime = CodeIssuer.defaultLifetime

    func validate() throws {
        guard !cardNumbers.isEmpty || numbers != nil else { throw ValidationError("give at least one card number") }
        guard (10...86_400).contains(lifetime) else { throw ValidationError("--lifetime must be 10-86400 seconds") }
    }

    func run() async throws {
        guard let key = try global.keyStore.loadKeyRing().current else { throw CLIFailure(message: "no signing key; run `yongjun keys init`") }
        let now = Date()
        let all = try CardNumberFile.numbers(cardNumbers, file: numbers)
        let (statusListURI, cards) = try await global.withAdminStore { store in
            (try await store.statusListURIForCodes(), try await store.cardsForIssuing(numbers: all, today: CalendarDate(chinaDayOf: now)))
        }
        let issuer = CodeIssuer(key: key, issuer: "yongjun", statusListURI: statusListURI)
        var generator = SystemRandomNumberGenerator()
        var codes: [String] = []
        codes.reserveCapacity(all.count)
        for card in cards {
            codes.append(try issuer.issue(for: card.codeSubject, now: now, lifetime: lifetime, using: &generator).token)
        }
        print(codes.joined(separator: "\n"))
    }
}

/// Card numbers from a file as well as from the arguments: argument parsing takes time growing with the square of
/// the count (10^4 numbers: seconds), a file does not.
enum CardNumberFile {
    static let help: ArgumentHelp = "A file of card numbers, one a line (- for standard input), for thousands of cards."

    static func numbers(_ arguments: [String], file: String?) throws -> [String] {
        guard let file else { return arguments }
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw CLIFailure(message: "cannot read \(file): no such file or not readable") }
        let listed = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let all = arguments + listed.filter { !$0.isEmpty }
        guard !all.isEmpty else { throw CLIFailure(message: "\(file) holds no card numbers") }
        return all
    }
}
