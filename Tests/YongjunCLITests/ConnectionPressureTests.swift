import Foundation
import Testing
import YongjunStorage

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#endif

/// Slow, idle and too many clients, ports that are taken, and stopping: what the process does, not what it means to.
@Suite("Connections, start and stop of the real server", .timeLimit(.minutes(5)))
struct ConnectionPressureTests {
    @Test("half-sent requests are cut off after read_timeout while /healthz keeps answering; idle keep-alive closes after idle_timeout")
    func slowAndIdleClients() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--read-timeout", "1", "--idle-timeout", "2"])
        defer { _ = server.stop() }
        let slow = try (0..<200).map { _ in try RawConnection(port: server.port) }
        for connection in slow { connection.send("POST /api/v1/verifications HTTP/1.1\r\nHost: x\r\nContent-Le") }
        #expect(try await server.client.send("GET", "/healthz").status == 200, "the server answers while they dangle")
        try await Task.sleep(for: .seconds(2.5))
        let closed = slow.filter { $0.receive(timeout: 0.5).closed }.count
        #expect(closed == slow.count, "every half-sent request was cut off (\(closed) of \(slow.count))")
        let idle = try RawConnection(port: server.port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = idle.receive(timeout: 1)
        #expect(first.text.hasPrefix("HTTP/1.1 200"))
        #expect(idle.receive(timeout: 4).closed, "an idle keep-alive connection is closed")
    }

    @Test("connections beyond max_connections get 503 at once and are closed; the server serves again when they go")
    func connectionLimit() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--max-connections", "20"])
        defer { _ = server.stop() }
        var held = try (0..<30).map { _ in try RawConnection(port: server.port) }
        let refused = held.map { $0.receive(timeout: 0.3) }.filter { $0.text.hasPrefix("HTTP/1.1 503") && $0.closed }
        #expect(refused.count >= 10, "\(refused.count) of 30 refused")
        held.removeAll()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await server.client.send("GET", "/healthz").status == 200)
    }

    @Test("serve fails within seconds, exit 1, naming the setting and port, when the main or the admin port is taken")
    func portTaken() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let taken = try OccupiedPort()
        for (flags, setting) in [
            (["--port", "\(taken.port)", "--admin-port", "0"], "port"), (["--port", "0", "--admin-port", "\(taken.port)"], "admin_port"),
        ] {
            let run = try runTool(["timeout", "20", CLI.binary, "--data-dir", cli.dataDirectory, "serve"] + flags)
            #expect(run.status == 1, "exit \(run.status): \(run.output)")
            #expect(
                run.output.contains("cannot listen on 127.0.0.1:\(taken.port) (setting \(setting)): the address is already in use"),
                "\(run.output)"
            )
        }
    }

    @Test("SIGTERM with an idle keep-alive connection and a half-sent request open still exits 0 within the drain time")
    func stopsWithOpenConnections() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--drain-timeout", "2"])
        let idle = try RawConnection(port: server.port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(idle.receive(timeout: 1).text.hasPrefix("HTTP/1.1 200"))
        let partial = try RawConnection(port: server.port)
        partial.send("POST /api/v1/verifications HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        server.process.terminate()
        let deadline = Date().addingTimeInterval(15)
        while server.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!server.process.isRunning, "the process stopped")
        if server.process.isRunning { server.process.interrupt() } else { #expect(server.process.terminationStatus == 0) }
    }

    @Test("SIGTERM while a verification waits on another process's write lock: cut off after drain_timeout, said so, exit 0")
    func drainCutsOff() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess(cli: cli, extraArguments: ["--drain-timeout", "1"])
        // Another process holds SQLite's write lock for 30 s, as a stuck admin command would.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=60); c.execute('BEGIN IMMEDIATE'); print('locked',flush=True); time.sleep(30)",
            cli.dataDirectory + "/yongjun.sqlite",
        ]
        let output = Pipe()
        let errors = Pipe()
        holder.standardOutput = output
        holder.standardError = errors
        try holder.run()
        defer { holder.terminate() }
        // The lock must be held before the verification is sent, or the test proves nothing.
        let said = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard said.contains("locked") else {
            Issue.record(
                "the lock holder did not take the lock: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))"
            )
            return
        }
        // curl in its own process sends the verification at once: a Task could wait for a thread of the
        // cooperative pool, which the other tests of a full parallel run keep busy.
        let sender = Process()
        sender.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sender.arguments = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "60", "-X", "POST", "-H", "Authorization: Bearer \(key)",
            "-H", "Content-Type: application/json", "--data", #"{"code":"\#(code)"}"#, server.baseURL.absoluteString + "/api/v1/verifications",
        ]
        let senderOutput = Pipe()
        sender.standardOutput = senderOutput
        try sender.run()
        // Stop only once the verification is inside the server.
        let metricsURL = try #require(server.adminURL).appendingPathComponent("metrics").absoluteString
        let arrived = Date().addingTimeInterval(30)
        var inside = false
        while Date() < arrived, !inside {
            inside = try runTool(["curl", "-s", "--max-time", "5", metricsURL]).output.contains("yongjun_http_requests_in_flight 1")
            if !inside { usleep(50_000) }
        }
        #expect(inside, "the verification never showed as in flight")
        server.process.terminate()
        let deadline = Date().addingTimeInterval(12)
        while server.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!server.process.isRunning, "stopped without waiting for the other process's lock")
        if server.process.isRunning { server.process.interrupt() } else { #expect(server.process.terminationStatus == 0) }
        #expect(server.log.contains("requests still in flight were cut off"), "\(server.log.prefix(2000))")
        #expect(!server.log.contains("Fatal error"))
        sender.waitUntilExit()
        let status = String(decoding: senderOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status != "200", "nothing was acknowledged that is not on record")
    }

    @Test("serve on an empty data directory refuses and leaves no database or lock file behind")
    func emptyDataDirectory() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let run = try cli.run("serve", "--port", "0", "--admin-port", "off")
        #expect(run.status != 0)
        #expect(run.stderr.contains("keys init"))
        #expect(!FileManager.default.fileExists(atPath: cli.dataDirectory + "/yongjun.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: cli.dataDirectory + "/serve.lock"))
    }
}

@Suite("Start-up checks of the real server")
struct StartupChecksTests {
    @Test("serve warns about a signing key file that no audited command created")
    func plantedKeyIsReported() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let planted = try KeyStore(directory: DataDirectory(path: cli.dataDirectory)).rotate(now: Date())
        let server = try ServerProcess(cli: cli)
        #expect(server.stop() == 0)
        #expect(server.log.contains("signing key \(planted.kid) has no `keys init`/`keys rotate` entry in the audit log"))
    }
}
