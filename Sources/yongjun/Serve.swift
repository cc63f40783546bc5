import ArgumentParser
import Foundation
import Hummingbird
import Logging
import YongjunCore
import YongjunServer
import YongjunStorage

/// `yongjun serve`: the HTTP service shops and holders talk to.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service (verification API, JWKS).",
        discussion: "Example: yongjun --data-dir /var/lib/yongjun serve --host 0.0.0.0 --port 8080"
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 8080

    @Option(help: "Seconds a phone code stays valid.")
    var codeLifetime = CodeIssuer.defaultLifetime

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535, got \(port)") }
        guard (10...86_400).contains(codeLifetime) else { throw ValidationError("--code-lifetime must be 10-86400 seconds") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
    }

    func run() async throws {
        var logger = Logger(label: "yongjun")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        settings.codeLifetime = codeLifetime
        let database = try global.openDatabase()
        let keys = try KeyRingProvider(store: global.keyStore, issuer: settings.issuer, now: Date())
        let dataPath = global.dataDirectory.path
        let listenHost = host
        let app = buildApplication(
            settings: settings,
            dependencies: ServerDependencies(database: database, keys: keys),
            logger: logger
        ) { boundPort in
            FileHandle.standardOutput.write(Data("yongjun: serving on http://\(listenHost):\(boundPort) (data: \(dataPath))\n".utf8))
        }
        try await app.runService()
    }
}
