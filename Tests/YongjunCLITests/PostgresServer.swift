import Foundation
import Synchronization

/// One real PostgreSQL for this test process, started on first use by `scripts/pg-test-server` (the script bench
/// scripts use too): a fresh cluster in a temporary folder, 127.0.0.1 on a free port, fsync and synchronous_commit on.
/// Each test takes its own database, so tests run in parallel. The server stops when the process exits (atexit);
/// if the process dies first (kill -9, a crash), the script's watchdog stops it within a second.
final class PostgresServer: Sendable {
    /// `postgres://postgres@127.0.0.1:PORT`, without a database.
    let baseURL: String
    /// The cluster, its log and its unix socket.
    let directory: String
    private let binDirectory: String
    private let created = Mutex(0)

    private static let started: Result<PostgresServer, any Error> = Result { try PostgresServer() }
    /// The folder to stop at exit, once a server started.
    private static let toStop = Mutex<String?>(nil)

    /// The process's server, started on first call; throws (with the reason) if it cannot start.
    static func running() throws -> PostgresServer {
        try started.get()
    }

    private init() throws {
        let script = CLI.packageRoot.appendingPathComponent("scripts/pg-test-server").path
        let line = try Self.run(script, ["--with-dir", "--watch", String(getpid())])
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count == 2, let portStart = parts[0].range(of: "@127.0.0.1:")?.upperBound else {
            throw StartFailure(description: "scripts/pg-test-server printed \(line)")
        }
        let port = parts[0][portStart...].prefix { $0.isNumber }
        baseURL = "postgres://postgres@127.0.0.1:\(port)"
        directory = parts[1]
        binDirectory = Self.binDirectory
        Self.toStop.withLock { $0 = parts[1] }
        atexit {
            guard let directory = PostgresServer.toStop.withLock({ $0 }) else { return }
            let script = CLI.packageRoot.appendingPathComponent("scripts/pg-test-server").path
            _ = try? PostgresServer.run(script, ["--stop", directory])
        }
    }

    /// A new empty database of its own: `postgres://postgres@127.0.0.1:PORT/db_N`.
    func createDatabase() async throws -> String {
        let name = created.withLock { count in
            count += 1
            return "db_\(count)"
        }
        let port = String(baseURL.split(separator: ":").last ?? "")
        _ = try Self.run(binDirectory + "/createdb", ["-h", "127.0.0.1", "-p", port, "-U", "postgres", name])
        return "\(baseURL)/\(name)"
    }

    /// Runs `psql` on database `url` with `sql` (tamper with rows, look at the schema) and returns its unaligned output.
    func psql(_ url: String, _ sql: String) throws -> String {
        try Self.run(binDirectory + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
    }

    static var binDirectory: String {
        if let bin = ProcessInfo.processInfo.environment["PG_BIN"] { return bin }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = versions.compactMap(Int.init).max().map(String.init) ?? "15"
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    struct StartFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a tool to completion; its stdout, trimmed, or a failure carrying its stderr.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        guard exitStatus(of: process) == 0 else {
            throw StartFailure(
                description: "\(tool) \(arguments.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))"
                    + " (PostgreSQL missing? run scripts/install-deps --test)"
            )
        }
        return String(decoding: stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reaps `process` with waitpid: Foundation's `waitUntilExit` never returns for a child that started
    /// PostgreSQL through runuser and pg_ctl, though the child is gone. If Foundation reaped it first, asks it.
    private static func exitStatus(of process: Process) -> Int32 {
        var status: Int32 = 0
        guard waitpid(process.processIdentifier, &status, 0) == process.processIdentifier else {
            process.waitUntilExit()
            return process.terminationStatus
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
