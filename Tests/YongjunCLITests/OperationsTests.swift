import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs a tool from PATH and returns its exit status and combined output.
@discardableResult
func runTool(_ arguments: [String], environment: [String: String] = [:], includeErrors: Bool = true) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = includeErrors ? pipe : FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Running Yongjun in production, as processes", .timeLimit(.minutes(5)))
struct OperationsTests {
    @Test("settings come from flags, then YONGJUN_* variables, then the config file; bad ones name the setting")
    func configuration() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let file = try cli.write("yongjun.conf", "# test\nport = 7001\nhost = \"0.0.0.0\"\nlog_level = warning\nmetrics_token = s3cret\n")
        let shown = try cli.run(
            ["config", "show", "--config", file, "--json", "--port", "7003"],
            environment: ["YONGJUN_PORT": "7002", "YONGJUN_LOG_LEVEL": "debug"]
        )
        #expect(shown.status == 0, "\(shown.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: String]] ?? []
        let settings = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"]!, ($0["value"]!, $0["source"]!)) })
        #expect(settings["port"]! == ("7003", "flag"))
        #expect(settings["log_level"]! == ("debug", "environment"))
        #expect(settings["host"]! == ("0.0.0.0", "file"))
        #expect(settings["code_lifetime"]! == ("180", "default"))
        #expect(settings["metrics_token"]!.0 == "******** (hidden)")
        #expect(!shown.stdout.contains("s3cret"))

        // A # inside quotes belongs to the value; after them it starts a comment.
        let hashed = try cli.run(
            "config",
            "show",
            "--json",
            "--config",
            try cli.write("hash.conf", "public_url = \"https://yongjun.example.cn\" # the public name\nmetrics_token = \"ab#cd\"\n")
        )
        #expect(hashed.status == 0, "\(hashed.stderr)")
        #expect(
            hashed.stdout.contains("\"https:\\/\\/yongjun.example.cn\"") || hashed.stdout.contains("\"https://yongjun.example.cn\""),
            "\(hashed.stdout)"
        )
        let unterminated = try cli.run("config", "show", "--config", try cli.write("open.conf", "host = \"0.0.0.0\n"))
        #expect(unterminated.status == 1)
        #expect(unterminated.stderr.contains("open.conf line 1: a quote is opened but not closed"))
        let unknown = try cli.run("config", "show", "--config", try cli.write("bad.conf", "port = 1\nprot = 2\n"))
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("bad.conf line 2: unknown setting \"prot\""))
        let badEnvironment = try cli.run(["serve"], environment: ["YONGJUN_CODE_LIFETIME": "forever"])
        #expect(badEnvironment.status == 1)
        #expect(badEnvironment.stderr.contains("YONGJUN_CODE_LIFETIME=forever: code_lifetime must be a whole number from 10 to 86400"))
        let halfTLS = try cli.run("serve", "--tls-certificate", file)
        #expect(halfTLS.stderr.contains("tls_certificate and tls_key go together"))
    }

    @Test("a metrics token with # inside quotes in the config file is the whole token")
    func quotedHash() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let file = try cli.write("hash.conf", "metrics_token = \"ab#cd\"   # the admin port's token\n")
        let server = try ServerProcess(cli: cli, extraArguments: ["--config", file])
        defer { _ = server.stop() }
        let metrics = try #require(server.adminURL).appendingPathComponent("metrics").absoluteString
        #expect(try runTool(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer ab#cd", metrics]).output == "200")
        #expect(try runTool(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer ab", metrics]).output != "200")
    }

    @Test("HTTPS served by Yongjun itself with the dev CA from certs/; metrics count verifications after traffic")
    func tlsAndMetrics() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let certificates = cli.workDirectory + "/tls"
        let made = try runTool([CLI.packageRoot.appendingPathComponent("certs/make-dev-certs.sh").path, certificates])
        #expect(made.status == 0, "\(made.output)")
        let server = try ServerProcess(
            cli: cli,
            extraArguments: ["--tls-certificate", certificates + "/server.crt", "--tls-key", certificates + "/server.key"]
        )
        defer { _ = server.stop() }
        #expect(server.baseURL.scheme == "https")
        for _ in 0..<3 {
            let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let answer = try runTool([
                "curl", "-sS", "--cacert", certificates + "/ca.crt", "-H", "Authorization: Bearer \(key)", "-d", #"{"code":"\#(code)"}"#,
                server.baseURL.absoluteString.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/api/v1/verifications",
            ])
            #expect(answer.output.contains(#""valid":true"#), "\(answer.output)")
        }
        let untrusted = try runTool(["curl", "-sS", server.baseURL.absoluteString + "/healthz"])
        #expect(untrusted.status != 0)

        let admin = try #require(server.adminURL)
        let (data, _) = try await HTTPClient.fetch(URLRequest(url: admin.appendingPathComponent("metrics")))
        let metrics = String(decoding: data, as: UTF8.self)
        #expect(metrics.contains(#"yongjun_verifications_total{result="valid",reason=""} 3"#))
        #expect(metrics.contains(#"yongjun_http_requests_total{method="POST",route="/api/v1/verifications",status="200"} 3"#))
        #expect(metrics.contains("yongjun_db_commit_duration_seconds_count"))
        #expect(metrics.contains("yongjun_http_request_duration_seconds_bucket"))
        let (ready, readyResponse) = try await HTTPClient.fetch(URLRequest(url: admin.appendingPathComponent("readyz")))
        #expect((readyResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: ready, as: UTF8.self) == "ready")
        #expect(!server.log.contains(key))
        #expect(server.log.contains("route=/api/v1/verifications"))
        #expect(server.log.contains("merchant=1"))
    }

    @Test("SIGTERM under load: every acknowledged verification is on record, and the server exits 0")
    func gracefulStop() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let codes = try cli.run(["cards", "code"] + Array(repeating: "LZ0001", count: 400)).stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 400)
        let server = try ServerProcess(cli: cli, extraArguments: ["--rate-limit", "0"])
        let acknowledged = await withTaskGroup(of: [String].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var ids: [String] = []
                    for code in codes.enumerated().filter({ $0.offset % 8 == worker }).map(\.element) {
                        guard let answer = try? await server.verify(code, key: key), let id = answer["verificationId"] as? String else { break }
                        ids.append(id)
                    }
                    return ids
                }
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(300))
                kill(server.process.processIdentifier, SIGTERM)
                return []
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(!acknowledged.isEmpty)
        let recorded = try runTool(["sqlite3", cli.dataDirectory + "/yongjun.sqlite", "SELECT id FROM verifications"])
        let ids = Set(recorded.output.split(separator: "\n").map(String.init))
        let lost = acknowledged.filter { !ids.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) acknowledged verifications are not on record")
        print("graceful stop: \(acknowledged.count) acknowledged, \(ids.count) recorded")
    }

    @Test("backup during load gives a checked copy; restore refuses while serving, then brings the copy back")
    func backupAndRestore() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let codes = try cli.run(["cards", "code"] + Array(repeating: "LZ0001", count: 60)).stdout.split(separator: "\n").map(String.init)
        let server = try ServerProcess(cli: cli, extraArguments: ["--rate-limit", "0"])
        defer { _ = server.stop() }
        let backupPath = cli.workDirectory + "/backup.sqlite"
        let backup = try await withThrowingTaskGroup(of: CLI.Result?.self) { group in
            group.addTask {
                for code in codes { _ = try await server.verify(code, key: key) }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(100))
                return try cli.run("backup", backupPath)
            }
            return try await group.reduce(into: CLI.Result?.none) { if let result = $1 { $0 = result } }
        }
        #expect(backup?.status == 0, "\(backup?.stderr ?? "")")
        #expect(backup?.stdout.contains("integrity ok") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: backupPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try cli.run("restore", backupPath, "--check-only").stdout.contains("integrity ok, 2 cards, 1 merchants"))
        let whileServing = try cli.run("restore", backupPath)
        #expect(whileServing.status == 1)
        #expect(whileServing.stderr.contains("stop it before restoring"))
        #expect(server.stop() == 0)
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "restore test").status == 0)
        let restored = try cli.run("restore", backupPath)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "again").status == 0, "the restore brought back the unrevoked card")
        #expect(try cli.run("audit", "list").stdout.contains("database.restore"))
        let garbage = try cli.write("garbage.sqlite", "not a database")
        #expect(try cli.run("restore", garbage).stderr.contains("garbage.sqlite"))
    }

    @Test("deploy/ checks out for real: nginx -t, HTTPS through nginx with the dev CA, systemd-analyze verify")
    func deployment() throws {
        let script = CLI.packageRoot.appendingPathComponent("deploy/check-deploy.sh").path
        let result = try runTool([script, CLI.binary])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("PASS: nginx -t accepts deploy/nginx/yongjun.conf"))
        #expect(result.output.contains("PASS: HTTPS verification through nginx with the dev CA"))
        #expect(result.output.contains("deploy check passed"))
    }
}
