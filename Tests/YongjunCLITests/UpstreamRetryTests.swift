import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two `yongjun serve` processes behind nginx built from deploy/nginx/ (issue 12). Each instance has its own SQLite
/// data directory copied from one (same keys, cards and shop), so each one's records show which instance answered.
@Suite("Several instances behind nginx: spread, failover, and resends only with Idempotency-Key", .timeLimit(.minutes(5)))
struct UpstreamRetryTests {
    @Test("nginx spreads verifications over both instances; with one killed -9 the other answers everything")
    func spreadAndKill() async throws {
        let first = try CLI()
        defer { first.remove() }
        let key = try first.prepare()
        let second = try first.copy()
        defer { second.remove() }
        let a = try ServerProcess(cli: first)
        defer { if a.process.isRunning { _ = a.stop() } }
        let b = try ServerProcess(cli: second)
        defer { _ = b.stop() }
        let nginx = try NginxSandbox(in: first.workDirectory, instances: [a.port, b.port])
        defer { nginx.stop() }

        let codes = try first.codes("LZ0001", count: 10)
        for (index, code) in codes.prefix(6).enumerated() {
            let reply = try await nginx.client.json("/api/v1/verifications", ["code": code], headers: headers(key, nonce: "spread-\(index)"))
            #expect(reply.json["valid"] as? Bool == true, "\(reply.status) \(reply.body)")
        }
        let (onA, onB) = (try await a.recorded(key: key), try await b.recorded(key: key))
        #expect(onA > 0 && onB > 0 && onA + onB == 6, "A recorded \(onA), B \(onB)")

        // A refused connection is a request not yet sent: nginx moves it, with or without a key.
        a.killHard()
        for code in codes.suffix(4) {
            #expect(try await nginx.client.send("GET", "/healthz").status == 200)
            let reply = try await nginx.client.json("/api/v1/verifications", ["code": code], headers: headers(key, nonce: nil))
            #expect(reply.json["valid"] as? Bool == true, "\(reply.status) \(reply.body)")
        }
        #expect(try await b.recorded(key: key) == onB + 4)
    }

    @Test("an instance that drops a request it read: with Idempotency-Key B answers it, without it is a JSON 503 and B never sees it")
    func droppedAfterSending() async throws {
        let first = try CLI()
        defer { first.remove() }
        let key = try first.prepare()
        let b = try ServerProcess(cli: first)
        defer { _ = b.stop() }
        let dropping = try DroppingUpstream(in: first.workDirectory, port: try OccupiedPort().port)
        defer { dropping.stop() }
        let nginx = try NginxSandbox(in: first.workDirectory, instances: [dropping.port, b.port])
        defer { nginx.stop() }
        var codes = try first.codes("LZ0001", count: 9)[...]

        // Each phase stops at the first request the dropping instance took, so it fails once a phase and stays
        // under max_fails (3): nginx keeps sending it its share.
        for _ in 0..<3 where !dropping.taken.contains("GET /healthz key=False") {
            #expect(try await nginx.client.send("GET", "/healthz").status == 200)
        }
        #expect(dropping.taken == ["GET /healthz key=False"])

        var answered = 0
        var badGateway = 0
        for _ in 0..<3 where !dropping.taken.contains("POST /api/v1/verifications key=False") {
            let reply = try await nginx.client.json("/api/v1/verifications", ["code": codes.removeFirst()], headers: headers(key, nonce: nil))
            if reply.status == 503 {
                // nginx's own answer, in the API's shape: a shop's system reads `error`, not nginx's HTML.
                #expect(reply.error == "unavailable" && reply.message?.contains("同一 nonce") == true, "\(reply.body)")
                badGateway += 1
            } else if reply.json["valid"] as? Bool == true {
                answered += 1
            }
        }
        #expect(dropping.taken.filter { $0.hasSuffix("key=False") && $0.hasPrefix("POST") }.count == 1)
        #expect(badGateway == 1, "the dropped POST without a key was not answered 503 unavailable")
        #expect(try await b.recorded(key: key) == answered, "B recorded a verification that was sent to the dropping instance")

        var keyed = 0
        for round in 0..<3 where !dropping.taken.contains("POST /api/v1/verifications key=True") {
            let reply = try await nginx.client.json(
                "/api/v1/verifications",
                ["code": codes.removeFirst()],
                headers: headers(key, nonce: "k-\(round)")
            )
            #expect(reply.status == 200 && reply.json["valid"] as? Bool == true, "\(reply.status) \(reply.body)")
            keyed += 1
        }
        #expect(dropping.taken.filter { $0.hasSuffix("key=True") }.count == 1, "\(dropping.taken)")
        #expect(try await b.recorded(key: key) == answered + keyed, "every keyed verification was answered by B")
        #expect(nginx.errorLog.contains("upstream prematurely closed connection"))
    }

    @Test("Idempotency-Key is the nonce: alone it replays the first answer, equal to the body's it is fine, different it is a 400")
    func headerAndBodyNonce() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let client = server.client
        let codes = try cli.codes("LZ0001", count: 3)
        func verify(_ code: String, body: String?, header: String?) async throws -> HTTPReply {
            var object = ["code": code]
            object["nonce"] = body
            return try await client.json("/api/v1/verifications", object, headers: headers(key, nonce: header))
        }

        let first = try await verify(codes[0], body: nil, header: "till-1-000001")
        #expect(first.json["valid"] as? Bool == true, "\(first.body)")
        let again = try await verify(codes[0], body: nil, header: "till-1-000001")
        #expect(again.body == first.body, "a retry with the same key must get the first answer, not a second record")
        // The draft's structured-field form, and the body, name the same nonce.
        #expect(try await verify(codes[0], body: nil, header: "\"till-1-000001\"").body == first.body)
        #expect(try await verify(codes[0], body: "till-1-000001", header: nil).body == first.body)
        #expect(try await verify(codes[0], body: nil, header: "till-1-000002").reason == "already_used_here")

        let same = try await verify(codes[1], body: "till-1-000003", header: "till-1-000003")
        #expect(same.json["valid"] as? Bool == true, "\(same.body)")
        let differ = try await verify(codes[2], body: "till-1-000004", header: "till-1-000005")
        #expect(differ.status == 400 && differ.error == "bad_request", "\(differ.body)")
        #expect(differ.message?.contains("不一致") == true, "\(differ.body)")
        let tooLong = String(repeating: "n", count: 129)
        let long = try await verify(codes[2], body: nil, header: tooLong)
        #expect(long.status == 400 && long.message == "Idempotency-Key 长度须为 1–128 个字符", "\(long.body)")
        #expect(try await server.recorded(key: key) == 3, "refused requests leave no record")

        // The offline upload takes the header too (its records' nonces already make a resend safe).
        let offline = #"{"records":[]}"#
        let uploaded = try await client.send("POST", "/api/v1/verifications/offline", headers: headers(key, nonce: "upload-1"), body: offline)
        #expect(uploaded.status == 200, "\(uploaded.body)")
        let badUpload = try await client.send("POST", "/api/v1/verifications/offline", headers: headers(key, nonce: tooLong), body: offline)
        #expect(badUpload.status == 400, "\(badUpload.body)")
    }

    @Test("nginx's own answers are Yongjun's: JSON 503 unavailable when no instance answers, 413 and 429 as JSON, Chinese pages")
    func nginxOwnAnswers() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let nobody = try OccupiedPort().port  // closed again at once: connections to it are refused
        let nginx = try NginxSandbox(in: cli.workDirectory, instances: [nobody])
        defer { nginx.stop() }
        let json = ["Content-Type": "application/json", "Authorization": "Bearer yj_test"]

        for nonce in [nil, "till-9-000001"] {
            var headers = json
            headers["Idempotency-Key"] = nonce
            let down = try await nginx.client.send("POST", "/api/v1/verifications", headers: headers, body: #"{"code":"x"}"#)
            #expect(down.status == 503 && down.error == "unavailable", "\(down.status) \(down.body)")
            #expect(down.headers["content-type"]?.hasPrefix("application/json") == true && down.json["retryAfterSeconds"] as? Int == 1)
            #expect(down.headers["retry-after"] == "1", "every 429 and 503 carries Retry-After (README): \(down.headers)")
        }
        let page = try await nginx.client.send("GET", "/card")
        #expect(page.status == 503 && page.body.contains("服务暂时无法应答") && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.headers["x-frame-options"] == "DENY", "the site's security headers stay on nginx's own answers")

        let huge = try await nginx.client.send("POST", "/api/v1/verifications", headers: json, body: String(repeating: "x", count: 70_000))
        #expect(huge.status == 413 && huge.error == "body_too_large", "\(huge.status) \(huge.body)")

        // Sign-in routes: 10 a minute, burst 5, per client address; every one past that is nginx's own 429. Sent at once
        // (one after another, on a loaded machine the bucket refilled between them): at most 6 of 20 get through.
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let client = nginx.client
        let replies = try await withThrowingTaskGroup(of: (page: Bool, reply: HTTPReply).self) { group in
            for index in 0..<20 {
                let page = index % 2 == 1
                group.addTask {
                    page
                        ? (true, try await client.send("POST", "/card/login", headers: form, body: "a=b"))
                        : (false, try await client.send("POST", "/api/v1/holder/session", headers: json, body: "{}"))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let limited = replies.filter { !$0.page && $0.reply.status == 429 }.map(\.reply)
        #expect(!limited.isEmpty && limited.allSatisfy { $0.error == "rate_limited" && $0.headers["retry-after"] == "1" }, "\(limited.map(\.body))")
        let limitedPages = replies.filter { $0.page && $0.reply.status == 429 }.map(\.reply)
        #expect(!limitedPages.isEmpty && limitedPages.allSatisfy { $0.body.contains("请求过于频繁") }, "\(replies.map { "\($0.reply.status)" })")
        #expect(try await nginx.client.send("GET", "/_errors/unavailable.json").status == 404, "the error answers are not reachable directly")
    }

    private func headers(_ key: String, nonce: String?) -> [String: String] {
        var headers = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
        headers["Idempotency-Key"] = nonce
        return headers
    }
}
