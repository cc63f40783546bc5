import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the real `yongjun` binary as a process against its own temporary data directory.
struct CLI {
    let dataDirectory: String
    let workDirectory: String

    init() throws {
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("yongjun-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        dataDirectory = workDirectory + "/data"
    }

    /// The binary SwiftPM built next to the test bundle (or `YONGJUN_BIN`).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["YONGJUN_BIN"] { return path }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("yongjun").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/yongjun").path
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `yongjun --data-dir <tmp> ARGS…` to completion.
    @discardableResult
    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> Result {
        try run(arguments, environment: environment)
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:], withDataDir: Bool = true) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = (withDataDir ? ["--data-dir", dataDirectory] : []) + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workDirectory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    func write(_ name: String, _ contents: String) throws -> String {
        try write(name, Data(contents.utf8))
    }

    func write(_ name: String, _ data: Data) throws -> String {
        let path = workDirectory + "/" + name
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    static func idNumber(_ first17: String) -> String {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let checks = Array("10X98765432")
        let sum = zip(first17.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 }
        return first17 + String(checks[sum % 11])
    }

    /// A good cardholders file with two cards.
    static var cardsCSV: String {
        """
        card_no,name,id_number,category,valid_until,phone
        LZ0001,张小三,\(idNumber("44188219650312123")),退役军人,2099-12-31,13800138000
        LZ0002,李四,\(idNumber("44188219700101456")),military_family,2099-06-30,

        """
    }

    /// Keys, the two cards and one shop with a key; returns the shop's API key.
    func prepare() throws -> String {
        #expect(try run("keys", "init").status == 0)
        #expect(try run("cards", "import", try write("cards.csv", Self.cardsCSV)).status == 0)
        let id = try run("merchants", "add", "--name", "老兵汽修", "--industry", "vehicle_repair").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return try run("merchants", "key", id).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `yongjun serve --port 0` as a process; stopped with SIGTERM.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let baseURL: URL
    /// The admin listener, when it started before the main one announced itself.
    private(set) var adminURL: URL?
    private let logPath: String

    init(cli: CLI, extraArguments: [String] = []) throws {
        logPath = cli.workDirectory + "/server-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["--data-dir", cli.dataDirectory, "serve", "--port", "0", "--admin-port", "0"] + extraArguments
        let log = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = log
        process.standardError = log
        try process.run()
        var found: URL?
        for _ in 0..<100 {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"serving on https?://[0-9.]+:[0-9]+"#, options: .regularExpression) {
                found = URL(string: String(text[range].dropFirst("serving on ".count)))
                if let admin = text.range(of: #"admin \(metrics, health\) on http://[0-9.]+:[0-9]+"#, options: .regularExpression) {
                    adminURL = URL(string: String(text[admin].split(separator: " ").last ?? ""))
                }
                break
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard let found else {
            process.terminate()
            throw ServerError(log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
        }
        baseURL = found
    }

    struct ServerError: Error, CustomStringConvertible {
        let log: String
        var description: String { "server did not start: \(log)" }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A crash report from the log, from its reason on (the whole log is long), or the log's end when there is none.
    var crashReport: String {
        let log = log
        let start = ["Fatal error", "💣", "Crash"].compactMap { log.range(of: $0)?.lowerBound }.min()
        // What it warned of before, which says what it was waiting for.
        let warned = log.split(separator: "\n").filter { $0.contains(" warning ") || $0.contains(" error ") }.suffix(8).joined(separator: "\n")
        return warned + "\n" + (start.map { String(log[$0...].prefix(3000)) } ?? String(log.suffix(3000)))
    }

    func verify(_ code: String, key: String) async throws -> [String: Any] {
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v1/verifications"))
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["code": code])
        let (data, _) = try await HTTPClient.fetch(request)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// A test that does not stop its server still does not leave it running after the test process ends.
    deinit {
        if process.isRunning { process.terminate() }
    }
}
