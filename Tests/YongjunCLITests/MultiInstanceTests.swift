import Foundation
import Synchronization
import Testing

/// Two `yongjun serve` processes on one real PostgreSQL: what one instance hands out or records, the other honours.
/// The register is built on SQLite with the CLI and moved over with `yongjun store copy`, as a city would move.
@Suite("Two instances on one PostgreSQL store", .timeLimit(.minutes(5)))
struct MultiInstanceTests {
    /// A register on PostgreSQL and two instances serving it, each with its own data directory (lock, copied keys).
    struct Cluster {
        let cli: CLI
        let other: CLI
        let database: String
        let key: String
        let a: ServerProcess
        let b: ServerProcess

        var env: [String: String] { ["YONGJUN_DATABASE": database] }

        init(cards: Int = 0, serverArguments: [String] = []) async throws {
            cli = try CLI()
            other = try CLI()
            key = try cli.prepare()
            if cards > 0 {
                let rows = (0..<cards).map { index in
                    "LZ8\(String(format: "%05d", index)),持证人\(index),\(CLI.idNumber(String(format: "44188219600101%03d", index % 1000))),veteran,2099-12-31,"
                }
                let file = try cli.write("more.csv", "card_no,name,id_number,category,valid_until,phone\n" + rows.joined(separator: "\n") + "\n")
                #expect(try cli.run("cards", "import", file).status == 0)
            }
            database = try await PostgresServer.running().createDatabase()
            let copy = try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", database)
            #expect(copy.status == 0, "\(copy.stdout)\(copy.stderr)")
            // The second instance's own data directory holds only the keys (0600), copied as an operator would.
            try FileManager.default.createDirectory(atPath: other.dataDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: cli.dataDirectory + "/keys", toPath: other.dataDirectory + "/keys")
            a = try ServerProcess(cli: cli, extraArguments: ["--database", database, "--rate-limit", "0"] + serverArguments)
            b = try ServerProcess(cli: other, extraArguments: ["--database", database, "--rate-limit", "0"] + serverArguments)
        }

        /// A holder session for LZ0001 on instance A, activated with a code issued on PostgreSQL through the CLI.
        func holderSession() async throws -> String {
            let code = try cli.run(["cards", "activation", "LZ0001"], environment: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let reply = try await a.client.json("/api/v1/holder/activate", ["cardNo": "LZ0001", "activationCode": code, "pin": "482913"])
            #expect(reply.status == 200, "\(reply.body)")
            return try #require(reply.cookieValue("yj_session"))
        }

        func stop() {
            _ = a.stop()
            _ = b.stop()
            cli.remove()
            other.remove()
        }
    }

    @Test("a code from A verifies at B; the same code at the same shop via A then B is already_used_here; a 9-digit number from A works at B once")
    func codesAcrossInstances() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let session = try await cluster.holderSession()
        let first = try await cluster.a.client.holderCode(session: session)
        let atB = try await cluster.b.client.verify(first.code, key: cluster.key)
        #expect(atB.status == 200 && atB.json["valid"] as? Bool == true, "\(atB.body)")

        let second = try await cluster.a.client.holderCode(session: session)
        #expect(try await cluster.a.client.verify(second.code, key: cluster.key).json["valid"] as? Bool == true)
        #expect(try await cluster.b.client.verify(second.code, key: cluster.key).reason == "already_used_here")

        let third = try await cluster.a.client.holderCode(session: session)
        let number = try await cluster.b.client.verify(third.shortCode, key: cluster.key)
        #expect(number.json["valid"] as? Bool == true, "the number A showed works at B: \(number.body)")
        #expect(try await cluster.a.client.verify(third.shortCode, key: cluster.key).reason == "unknown_short_code", "and only once")
        #expect(try await cluster.b.client.verify(third.shortCode, key: cluster.key).reason == "unknown_short_code")
    }

    @Test("a retry with the same nonce on the other instance gets the first answer, not a second record")
    func nonceAcrossInstances() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let session = try await cluster.holderSession()
        let code = try await cluster.a.client.holderCode(session: session).code
        let first = try await cluster.a.client.verify(code, key: cluster.key, nonce: "till-7-0001")
        let retry = try await cluster.b.client.verify(code, key: cluster.key, nonce: "till-7-0001")
        #expect(first.json["valid"] as? Bool == true)
        #expect(retry.body == first.body, "the retry is answered with the first answer")
        let server = try PostgresServer.running()
        #expect(try server.psql(cluster.database, "SELECT count(*) FROM verifications WHERE nonce = 'till-7-0001'") == "1")
    }

    @Test("64 concurrent redemptions of one code at one shop across both instances give exactly one valid")
    func concurrentRedemptions() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let session = try await cluster.holderSession()
        let code = try await cluster.a.client.holderCode(session: session).code
        let clients = [cluster.a.client, cluster.b.client]
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for index in 0..<64 { group.addTask { try await clients[index % 2].verify(code, key: cluster.key) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 })
        #expect(replies.filter { $0.json["valid"] as? Bool == true }.count == 1)
        #expect(replies.filter { $0.reason == "already_used_here" }.count == 63)
        let server = try PostgresServer.running()
        #expect(try server.psql(cluster.database, "SELECT count(*) FROM verifications WHERE valid = 1") == "1")
    }

    @Test("a card revoked and a shop suspended through the CLI are refused by both instances on their very next request")
    func revocationReachesBoth() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let session = try await cluster.holderSession()
        let forA = try await cluster.a.client.holderCode(session: session).code
        let forB = try await cluster.b.client.holderCode(session: session).code
        // Both instances have read (and cached) the card and the shop before the revocation.
        let warm = try await cluster.b.client.holderCode(session: session).code
        #expect(try await cluster.a.client.verify(warm, key: cluster.key).json["valid"] as? Bool == true)
        #expect(try await cluster.b.client.verify(warm, key: cluster.key).reason == "already_used_here")

        let revoke = try cluster.cli.run(["cards", "revoke", "LZ0001", "--reason", "遗失"], environment: cluster.env)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        // The first request to each instance once the CLI has returned: no window in which a cached card passes
        // (the issue's goal is 1 s; this is 0, without timing anything under the suite's load).
        let atA = try await cluster.a.client.verify(forA, key: cluster.key)
        let atB = try await cluster.b.client.verify(forB, key: cluster.key)
        #expect(atA.reason == "card_revoked", "\(atA.body)")
        #expect(atB.reason == "card_revoked", "\(atB.body)")

        let other = try await cluster.a.client.holderCode(
            session: try await { () async throws -> String in
                // LZ0002 signs in too, so the shop has a valid code to be refused for.
                let code = try cluster.cli.run(["cards", "activation", "LZ0002"], environment: cluster.env).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let reply = try await cluster.b.client.json("/api/v1/holder/activate", ["cardNo": "LZ0002", "activationCode": code, "pin": "482913"])
                return try #require(reply.cookieValue("yj_session"))
            }()
        ).code
        let shop = try cluster.cli.run(["merchants", "list", "--json"], environment: cluster.env).stdout
        let shopID = try #require((try JSONSerialization.jsonObject(with: Data(shop.utf8)) as? [[String: Any]])?.first?["id"] as? Int)
        #expect(try cluster.cli.run(["merchants", "suspend", String(shopID), "--reason", "整改"], environment: cluster.env).status == 0)
        #expect(try await cluster.a.client.verify(other, key: cluster.key).error == "merchant_suspended")
        #expect(try await cluster.b.client.verify(other, key: cluster.key).error == "merchant_suspended")
        #expect(try cluster.cli.run(["merchants", "reinstate", String(shopID)], environment: cluster.env).status == 0)
        #expect(try await cluster.b.client.verify(other, key: cluster.key).json["valid"] as? Bool == true, "reinstated on both")
    }

    @Test("the guess budget for 9-digit numbers is one budget across both instances")
    func sharedGuessBudget() async throws {
        let cluster = try await Cluster()
        defer { cluster.stop() }
        let clients = [cluster.a.client, cluster.b.client]
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for index in 0..<60 {
                group.addTask { try await clients[index % 2].verify(String(format: "5000000%02d", index), key: cluster.key) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.filter { $0.reason == "unknown_short_code" }.count == 10, "the shop's 10 guesses, not 10 per instance")
        #expect(replies.filter { $0.status == 429 }.count == 50)
    }

    @Test("kill -9 of one instance under load through nginx: no acknowledged verification is missing, the other keeps answering")
    func killOneUnderLoad() async throws {
        let cluster = try await Cluster(cards: 240)
        defer { cluster.stop() }
        let cardNumbers = ["LZ0001", "LZ0002"] + (0..<240).map { "LZ8\(String(format: "%05d", $0))" }
        let codes = try cluster.cli.run(["cards", "code", "--lifetime", "1800"] + cardNumbers).stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == cardNumbers.count)
        let nginx = try NginxSandbox(in: cluster.cli.workDirectory, instances: [cluster.a.port, cluster.b.port], rateLimits: false)
        defer { nginx.stop() }
        let client = nginx.client
        // Counted, not timed: on a loaded machine the load may crawl, and the kill must still land in its middle.
        let progress = LoadProgress(killAfter: 48, goOnAfterKill: 48)
        let results = try await withThrowingTaskGroup(of: [(nonce: String, sentAfterKill: Bool, reply: HTTPReply?)].self) { group in
            let workers = 12
            for worker in 0..<workers {
                group.addTask {
                    var results: [(nonce: String, sentAfterKill: Bool, reply: HTTPReply?)] = []
                    // Codes come round again (then already_used_here, recorded all the same).
                    var index = worker
                    // Timed from when this worker runs: under the whole suite a task may wait long for a thread.
                    let begun = ContinuousClock.now
                    while progress.wanted, ContinuousClock.now - begun < .seconds(90) {
                        defer { index += workers }
                        let nonce = "load-\(index)"
                        let afterKill = progress.killed
                        let body = String(
                            decoding: try JSONSerialization.data(withJSONObject: ["code": codes[index % codes.count], "nonce": nonce]),
                            as: UTF8.self
                        )
                        let reply = try? await client.send(
                            "POST",
                            "/api/v1/verifications",
                            headers: ["Authorization": "Bearer \(cluster.key)", "Content-Type": "application/json", "Idempotency-Key": nonce],
                            body: body
                        )
                        progress.answered(sentAfterKill: afterKill)
                        results.append((nonce, afterKill, reply))
                    }
                    return results
                }
            }
            group.addTask {
                let begun = ContinuousClock.now
                while !progress.timeToKill, ContinuousClock.now - begun < .seconds(60) { try await Task.sleep(for: .milliseconds(10)) }
                kill(cluster.a.process.processIdentifier, SIGKILL)
                progress.markKilled()
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(progress.killed)
        let acknowledged = results.compactMap { result -> (String, String)? in
            guard let reply = result.reply, reply.status == 200, let id = reply.json["verificationId"] as? String else { return nil }
            return (result.nonce, id)
        }
        let afterKill = results.filter { $0.sentAfterKill }
        print("kill -9 under load: \(results.count) sent, \(acknowledged.count) acknowledged, \(afterKill.count) after the kill")
        // 48 when the machine keeps up; under the whole suite the 90 s bound may end the load sooner (36 once). What
        // must hold: the load went on after the kill, and the other instance answered it.
        #expect(afterKill.count >= 12, "the load went on after the kill (\(afterKill.count) requests)")
        #expect(afterKill.contains { $0.reply?.status == 200 }, "the other instance answered after the kill")
        // Requests in flight at the kill are resent by nginx (they carry Idempotency-Key); a few may still end without an
        // answer on a crawling machine (the client's own timeout): not acknowledged, so nothing is promised for them.
        let statuses = Dictionary(grouping: results, by: { $0.reply.map { String($0.status) } ?? "no answer" }).mapValues(\.count)
        #expect(acknowledged.count >= afterKill.count, "\(acknowledged.count) acknowledged of \(results.count): \(statuses)")
        #expect(afterKill.filter { $0.reply?.status == 200 }.count == afterKill.count, "B answered everything sent after the kill")
        let ids = acknowledged.map { "'\($0.1)'" }.joined(separator: ",")
        let server = try PostgresServer.running()
        let found = try server.psql(cluster.database, "SELECT count(*) FROM verifications WHERE id IN (\(ids))")
        #expect(found == String(acknowledged.count), "every acknowledged verification is recorded (\(acknowledged.count) acknowledged)")
        let duplicates = try server.psql(
            cluster.database,
            "SELECT count(*) FROM (SELECT nonce FROM verifications WHERE nonce LIKE 'load-%' GROUP BY nonce HAVING count(*) > 1) d"
        )
        #expect(duplicates == "0", "a resent request never made a second record")
        #expect(try await cluster.b.client.send("GET", "/healthz").status == 200)
    }

    @Test("PostgreSQL going away while serving: a verification is answered 503 within seconds, /readyz says so, SIGTERM still stops")
    func storeGoesAway() async throws {
        let own = try ServerOnOwnCluster()
        defer { own.close() }
        let code = try own.cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        own.cluster.stop()
        let sent = try timedCurl(in: own.cli.workDirectory, own.verification(code, nonce: "till-9-1"))
        #expect(sent.status == 503 && sent.body.contains(#""error":"unavailable""#), "\(sent)")
        #expect(sent.seconds < 15, "answered in \(sent.seconds) s, not left waiting for a connection")
        #expect(try await HTTPClient(try #require(own.server.adminURL)).send("GET", "/readyz").status == 503)
        #expect(try await own.server.client.send("GET", "/healthz").status == 200)
        #expect(own.server.stop() == 0, "\(own.server.crashReport)")
    }
}

extension MultiInstanceTests {
    @Test("PostgreSQL restarted under a serving instance: the kept connection is replaced, a retry with the same nonce is answered once")
    func storeRestarts() async throws {
        let own = try ServerOnOwnCluster()
        defer { own.close() }
        let (server, key) = (own.server, own.key)
        let codes = try own.cli.run("cards", "code", "LZ0001", "LZ0002").stdout.split(separator: "\n").map(String.init)
        let first = try await server.client.verify(codes[0], key: key, nonce: "till-7-1")
        #expect(first.json["valid"] as? Bool == true, "\(first.body)")

        // Every connection is cut, the one the verification log keeps between groups among them.
        try own.cluster.restart()
        // A till retries a 503 with the same nonce; the answer must come, and only once.
        let replies = try await server.client.verifyWhileUnavailable(codes[1], key: key, nonce: "till-7-2", tries: 5)
        let answered = try #require(replies.last)
        #expect(answered.status == 200 && answered.json["valid"] as? Bool == true, "\(replies.map { "\($0.status) \($0.body)" })")
        #expect(replies.dropLast().allSatisfy { $0.status == 503 && $0.error == "unavailable" }, "\(replies.map(\.body))")
        let again = try await server.client.verify(codes[1], key: key, nonce: "till-7-2")
        #expect(again.body == answered.body, "the same nonce gets the first answer")
        let reused = try await server.client.verify(codes[0], key: key, nonce: "till-7-3")
        #expect(reused.reason == "already_used_here", "\(reused.body)")
        #expect(try await HTTPClient(try #require(server.adminURL)).send("GET", "/readyz").status == 200)
        #expect(server.stop() == 0, "SIGTERM stops it after the restart too: \(server.crashReport)")
    }
}

extension MultiInstanceTests {
    @Test("PostgreSQL hanging (every process stopped) under a serving instance: 503 within the deadlines, /readyz says so, it recovers")
    func storeHangs() async throws {
        let own = try ServerOnOwnCluster()
        defer { own.close() }
        let (server, key, folder) = (own.server, own.key, own.cli.workDirectory)
        let codes = try own.cli.run("cards", "code", "LZ0001", "LZ0002").stdout.split(separator: "\n").map(String.init)
        let first = try await server.client.verify(codes[0], key: key, nonce: "till-8-1")
        #expect(first.json["valid"] as? Bool == true, "\(first.body)")

        // Readiness leaves a connection idle in the pool, for the frozen server to hold next.
        let admin = try #require(server.adminURL)
        #expect(try await HTTPClient(admin).send("GET", "/readyz").status == 200)
        // The sockets stay open and nothing answers: a database host that froze, not one that went away.
        own.cluster.signal("STOP")
        let readyz = admin.absoluteString + "/readyz"
        let early = try timedCurl(in: folder, [readyz])
        #expect(early.status == 503 && early.seconds < 10, "/readyz, PostgreSQL frozen, a connection idle: \(early)")
        // At once, each with its own curl: a till's verification, a holder signing in (a route that writes), a shop's
        // JSON lookup and a page.
        let base = server.baseURL.absoluteString
        let answers = try concurrentCurls(
            in: folder,
            [
                "verify": own.verification(codes[1], nonce: "till-8-2"),
                "signIn": [
                    "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"cardNo":"LZ0001","pin":"482913"}"#,
                    base + "/api/v1/holder/session",
                ],
                "merchants": [base + "/api/v1/merchants"],
                "shops": [base + "/shops"],
            ]
        )
        let verify = try #require(answers["verify"])
        #expect(verify.status == 503 && verify.body.contains(#""error":"unavailable""#), "\(verify)")
        #expect(verify.seconds < 30, "answered in \(verify.seconds) s: at most a statement's 15 s and a lease's 3 s")
        // Every other route answers within its 15 s as well: 503 with Retry-After, never a 500, never a hang.
        for name in ["signIn", "merchants"] {
            let answer = try #require(answers[name])
            #expect(answer.status == 503 && answer.body.contains(#""error":"unavailable""#), "\(name): \(answer)")
            #expect(answer.headers.lowercased().contains("retry-after: 1"), "\(name): \(answer.headers)")
            #expect(answer.seconds < 25, "\(name) answered in \(answer.seconds) s")
        }
        let shops = try #require(answers["shops"])
        #expect(shops.status == 503 && shops.body.contains("服务暂时不可用") && shops.headers.contains("text/html"), "\(shops)")
        #expect(shops.seconds < 25, "the shops page answered in \(shops.seconds) s")
        let ready = try timedCurl(in: folder, [readyz])
        #expect(ready.status == 503 && ready.seconds < 10, "/readyz while PostgreSQL hangs: \(ready)")

        own.cluster.signal("CONT")
        let replies = try await server.client.verifyWhileUnavailable(codes[1], key: key, nonce: "till-8-2", tries: 10)
        #expect(replies.last?.status == 200 && replies.last?.json["valid"] as? Bool == true, "\(replies.map { "\($0.status) \($0.body)" })")
        #expect(try await HTTPClient(admin).send("GET", "/readyz").status == 200)
        #expect(server.stop() == 0, "\(server.crashReport)")
    }
}

extension MultiInstanceTests {
    @Test("SIGTERM while PostgreSQL is frozen and nothing is in flight: the server stops at once, exit 0, not after its drain_timeout")
    func stopsWhileStoreFrozen() async throws {
        // A long drain, so that waiting it out cannot pass for stopping.
        let own = try ServerOnOwnCluster(serving: ["--drain-timeout", "30"])
        defer { own.close() }
        let code = try own.cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await own.server.client.verify(code, key: own.key, nonce: "till-10-1").json["valid"] as? Bool == true)
        own.cluster.signal("STOP")
        // Long enough for the history filing (every 2 s) to send a statement the frozen server holds.
        try await Task.sleep(for: .seconds(4))
        let stopping = ContinuousClock.now
        let stopped = own.server.stop()
        #expect(stopped == 0, "\(own.server.crashReport)")
        // Before, the history filing waited on its statement until the drain ran out (10 s by default), and then
        // sometimes past the 5 s the cancellation is given: a crash instead of exit 0.
        #expect(ContinuousClock.now - stopping < .seconds(15), "stopped after \(ContinuousClock.now - stopping)")
    }
}

/// A prepared register (`CLI.prepare`) copied into a PostgreSQL cluster of the test's own, and a server on it.
struct ServerOnOwnCluster {
    let cli: CLI
    let key: String
    let cluster: OwnCluster
    let server: ServerProcess

    init(serving extraArguments: [String] = []) throws {
        cli = try CLI()
        key = try cli.prepare()
        cluster = try OwnCluster(copying: cli)
        server = try ServerProcess(cli: cli, extraArguments: ["--database", cluster.url] + extraArguments)
    }

    /// curl's arguments for a verification of `code` with the shop's key.
    func verification(_ code: String, nonce: String) -> [String] {
        [
            "-X", "POST", "-H", "Authorization: Bearer \(key)", "-H", "Content-Type: application/json",
            "-d", #"{"code":"\#(code)","nonce":"\#(nonce)"}"#, server.baseURL.absoluteString + "/api/v1/verifications",
        ]
    }

    /// Stops whatever still runs (a frozen cluster is let go on first) and removes the files.
    func close() {
        if server.process.isRunning { _ = server.stop() }
        cluster.signal("CONT")
        cluster.stop()
        cli.remove()
    }
}

/// A PostgreSQL cluster of a test's own, holding a copy of a register: stopped or restarted under a server, which
/// the process-wide one must not be.
struct OwnCluster {
    let url: String
    let folder: String
    private let script = CLI.packageRoot.appendingPathComponent("scripts/pg-test-server").path

    init(copying cli: CLI) throws {
        let started = try PostgresServer.run(script, ["--with-dir", "--watch", String(getpid())]).split(separator: " ").map(String.init)
        (url, folder) = (started[0], started[1])
        #expect(try cli.run("store", "copy", "--from", "sqlite:" + cli.dataDirectory, "--to", url).status == 0)
    }

    /// Stops it and removes its folder (again: nothing).
    func stop() {
        if FileManager.default.fileExists(atPath: folder) { _ = try? PostgresServer.run(script, ["--stop", folder]) }
    }

    /// Sends SIGSTOP or SIGCONT (`name`) to the server and every one of its processes.
    func signal(_ name: String) {
        guard let pid = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8).split(separator: "\n").first
        else { return }
        _ = try? runTool(["pkill", "-\(name)", "-P", String(pid)])
        _ = try? runTool(["kill", "-\(name)", String(pid)])
    }

    /// `pg_ctl restart -m fast`: every connection is cut; same port and data.
    func restart() throws {
        _ = try PostgresServer.run(script, ["--restart", folder])
    }
}

/// How far a load got: when to kill an instance (after `killAfter` answers), and when to stop (`goOnAfterKill`
/// answers to requests sent after the kill).
final class LoadProgress: Sendable {
    private struct State {
        var answered = 0
        var answeredAfterKill = 0
        var killed = false
    }

    private let state = Mutex(State())
    let killAfter: Int
    let goOnAfterKill: Int

    init(killAfter: Int, goOnAfterKill: Int) {
        self.killAfter = killAfter
        self.goOnAfterKill = goOnAfterKill
    }

    var killed: Bool { state.withLock { $0.killed } }
    var timeToKill: Bool { state.withLock { $0.answered >= killAfter } }
    var wanted: Bool { state.withLock { !$0.killed || $0.answeredAfterKill < goOnAfterKill } }
    func markKilled() { state.withLock { $0.killed = true } }
    func answered(sentAfterKill: Bool) {
        state.withLock { state in
            state.answered += 1
            if sentAfterKill { state.answeredAfterKill += 1 }
        }
    }
}
