import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// nginx from deploy/nginx/ (rendered by deploy/nginx-sandbox.sh, as check-deploy.sh does) in front of the given
/// instances, serving plain HTTP on a free loopback port. It runs in the foreground (`daemon off`): a daemon would
/// inherit the descriptor Foundation watches to see its child exit, and waiting for that would never end.
final class NginxSandbox {
    let work: String
    let client: HTTPClient
    private let process = Process()

    /// `rateLimits: false` drops the per-address limits from the site (a load test sends everything from one address).
    init(in directory: String, instances: [Int], rateLimits: Bool = true) throws {
        work = directory + "/nginx-\(UUID().uuidString)"
        let site = try OccupiedPort().port
        let redirect = try OccupiedPort().port
        let script = CLI.packageRoot.appendingPathComponent("deploy/nginx-sandbox.sh").path
        let rendered = try runTool([script, work, String(site), String(redirect), "plain"] + instances.map(String.init))
        #expect(rendered.status == 0, "\(rendered.output)")
        if !rateLimits {
            let site = try String(contentsOfFile: work + "/site.conf", encoding: .utf8)
            try site.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("limit_req ") }.joined(separator: "\n")
                .write(toFile: work + "/site.conf", atomically: true, encoding: .utf8)
        }
        _ = FileManager.default.createFile(atPath: work + "/logs/start.log", contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["nginx", "-p", work, "-c", work + "/nginx.conf", "-g", "daemon off;"]
        process.standardOutput = FileHandle(forWritingAtPath: work + "/logs/start.log")
        process.standardError = process.standardOutput
        try process.run()
        client = HTTPClient(URL(string: "http://127.0.0.1:\(site)")!)
        for _ in 0..<50 {
            if (try? RawConnection(port: site)) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw RawConnection.RawError(description: "nginx did not start: \(Self.log(work, "start")) \(Self.log(work, "error"))")
    }

    var errorLog: String { Self.log(work, "error") }

    private static func log(_ work: String, _ name: String) -> String {
        (try? String(contentsOfFile: work + "/logs/\(name).log", encoding: .utf8)) ?? ""
    }

    /// SIGTERM: nginx's fast stop (it sets its own handler, so the runner's signal dispositions do not matter).
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// An upstream that reads a whole request and closes the connection without answering: an instance dying after
/// the request reached it. Each request it took is one line, its request line and whether it had Idempotency-Key.
final class DroppingUpstream {
    let process = Process()
    let port: Int
    private let logPath: String

    init(in directory: String, port: Int) throws {
        self.port = port
        logPath = directory + "/dropped-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, String(port), logPath]
        try process.run()
        // Ready once it accepts a connection (which it logs as nothing: no request line arrives).
        for _ in 0..<50 {
            if (try? RawConnection(port: port)) != nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RawConnection.RawError(description: "the dropping upstream did not listen on \(port)")
    }

    /// Request lines it took, as `POST /api/v1/verifications key=True`.
    var taken: [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// SIGKILL: the test runner's children may ignore SIGTERM, and this stand-in has nothing to finish.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    static let script = """
        import socket, sys
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(sys.argv[1])))
        server.listen(16)
        log = open(sys.argv[2], "a", buffering=1)
        while True:
            connection, _ = server.accept()
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, body = data.partition(b"\\r\\n\\r\\n")
            lines = head.decode("latin-1").split("\\r\\n")
            length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
            while len(body) < length:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                body += chunk
            if lines[0]:
                keyed = any(l.lower().startswith("idempotency-key:") for l in lines[1:])
                log.write(f"{lines[0].rsplit(' ', 1)[0]} key={keyed}\\n")
            connection.close()
        """
}

extension CLI {
    /// A second data directory holding a copy of this one (same keys, cards and shop), as a second instance's.
    func copy() throws -> CLI {
        let other = try CLI()
        let copied = try runTool(["cp", "-a", dataDirectory, other.dataDirectory])
        #expect(copied.status == 0, "\(copied.output)")
        return other
    }

    /// `count` fresh signed codes for `card`.
    func codes(_ card: String, count: Int) throws -> [String] {
        try run(["cards", "code"] + Array(repeating: card, count: count)).stdout.split(separator: "\n").map(String.init)
    }
}

extension ServerProcess {
    /// How many verifications this instance recorded for the shop (its own database).
    func recorded(key: String) async throws -> Int {
        let reply = try await client.send("GET", "/api/v1/shop/verifications?limit=200", headers: ["Authorization": "Bearer \(key)"])
        #expect(reply.status == 200, "\(reply.body)")
        return (reply.json["verifications"] as? [Any])?.count ?? -1
    }

    /// Stopped hard, as by the OOM killer or a power cut of the process: no drain, no goodbye.
    func killHard() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
