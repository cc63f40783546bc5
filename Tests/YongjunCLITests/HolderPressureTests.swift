import Foundation
import Testing

/// Holders' sign-in as an attacker, a forgetful holder and another web site would try it, on the real server.
@Suite("Holder sign-in under pressure, against the real server", .timeLimit(.minutes(5)))
struct HolderPressureTests {
    @Test("/card/login with a wrong PIN, an unknown card, a card not yet activated and a locked card shows the form again in Chinese, never 500")
    func loginPageFailures() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let client = server.client
        _ = try await cli.activateHolder("LZ0001", pin: "482913", on: client)
        func login(_ card: String, _ pin: String) async throws -> HTTPReply {
            try await client.form("/card/login", page: "/card", fields: ["cardNo": card, "pin": pin])
        }
        for (card, pin) in [("LZ0001", "111222"), ("LZ9999", "111222"), ("LZ0002", "111222")] {
            let page = try await login(card, pin)
            #expect(page.status == 401, "\(card): \(page.status)")
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.body.contains("证号或 PIN 不正确，还可尝试 4 次"), "\(card) fails like any other: \(page.body)")
            #expect(!page.body.contains("激活码不正确"))
        }
        for _ in 0..<4 { _ = try await login("LZ0001", "111222") }
        let locked = try await login("LZ0001", "482913")
        #expect(locked.status == 429)
        #expect(locked.body.contains("已暂时锁定"))
        #expect(locked.headers["retry-after"] != nil)
        let activation = try await client.form(
            "/card/activate",
            page: "/card/activate",
            fields: ["cardNo": "LZ0002", "activationCode": "wrong-code-1", "pin": "482913", "pin2": "482913"]
        )
        #expect(activation.status == 401)
        #expect(activation.body.contains("证号或激活码不正确，还可尝试 3 次"), "the count goes on from the failed sign-in above: \(activation.body)")
    }

    @Test("unknown card, card not activated and wrong PIN answer alike; locks escalate 15 min → 1 h → 24 h → until the bureau unlocks")
    func uniformAnswersAndEscalatingLock() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--form-rate-limit", "0"])
        defer { _ = server.stop() }
        let client = server.client
        _ = try await cli.activateHolder("LZ0001", pin: "482913", on: client)
        func signIn(_ card: String, _ pin: String) async throws -> HTTPReply {
            try await client.json("/api/v1/holder/session", ["cardNo": card, "pin": pin])
        }
        let answers = try await [signIn("LZ0001", "111222"), signIn("LZ0002", "111222"), signIn("NO-SUCH-CARD", "111222")]
        #expect(Set(answers.map { "\($0.status) \($0.error ?? "") \($0.message ?? "")" }).count == 1, "\(answers.map(\.body))")
        #expect(answers[0].status == 401)
        #expect(try cli.run("cards", "unlock", "LZ0001").status == 0)
        for expected in ["900", "3600", "86400", nil] {
            for _ in 0..<4 { #expect(try await signIn("LZ0001", "111222").status == 401) }
            let lock = try await signIn("LZ0001", "111222")
            #expect(lock.status == 429)
            #expect(lock.error == "locked")
            #expect(lock.headers["retry-after"] == expected)
            #expect(try await signIn("LZ0001", "482913").status == 429, "even the right PIN waits")
            if expected != nil {
                _ = try cli.sqlite("UPDATE sign_in_guards SET locked_until = '2000-01-01T00:00:00.000Z' WHERE card_no = 'LZ0001'")
            }
        }
        #expect(try await signIn("LZ0001", "482913").status == 429, "the fourth lock does not run out")
        let shown = try cli.run("cards", "show", "LZ0001")
        #expect(shown.stdout.contains("until the bureau unlocks it"))
        #expect(try cli.run("cards", "unlock", "LZ0001").status == 0)
        #expect(try await signIn("LZ0001", "482913").status == 200)
    }

    @Test("the holder JSON API refuses text/plain and form posts with 415 and sets no cookie; sign-ins per client address are limited")
    func contentTypeAndRateLimit() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        let client = server.client
        let body = #"{"cardNo":"LZ0001","pin":"482913"}"#
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let reply = try await client.send("POST", "/api/v1/holder/session", headers: ["Content-Type": type], body: body)
            #expect(reply.status == 415, "\(type)")
            #expect(reply.error == "unsupported_media_type")
            #expect(reply.setCookie("yj_session") == nil)
        }
        #expect(server.stop() == 0)
        let limitedServer = try ServerProcess(cli: cli, extraArguments: ["--form-rate-limit", "2"])
        defer { _ = limitedServer.stop() }
        // Three at once: the limit counts them as they arrive, before any PIN is hashed (sent one after another on a
        // loaded machine, a slow hash let the bucket refill a token between them).
        let limitedClient = limitedServer.client
        async let one = limitedClient.json("/api/v1/holder/session", ["cardNo": "LZ0002", "pin": "111222"])
        async let two = limitedClient.json("/api/v1/holder/session", ["cardNo": "LZ0002", "pin": "111222"])
        async let three = limitedClient.json("/api/v1/holder/session", ["cardNo": "LZ0002", "pin": "111222"])
        let replies: [HTTPReply] = try await [one, two, three]
        #expect(replies.map(\.status).sorted() == [401, 401, 429], "\(replies.map { "\($0.status) \($0.body)" })")
        let limited = try #require(replies.first { $0.status == 429 })
        #expect(limited.error == "rate_limited")
        #expect(limited.headers["retry-after"] != nil)
    }

    @Test("cookies are Secure only over HTTPS: direct TLS, or X-Forwarded-Proto from a trusted proxy, never from anyone else")
    func secureCookieRule() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let untrusted = try ServerProcess(cli: cli)
        let spoofed = try await untrusted.client.send("GET", "/card", headers: ["X-Forwarded-Proto": "https"])
        #expect(spoofed.setCookie("yj_csrf")?.contains("Secure") == false, "a client's own header is not believed")
        #expect(untrusted.stop() == 0)
        let proxied = try ServerProcess(cli: cli, extraArguments: ["--trusted-proxy", "127.0.0.1"])
        defer { _ = proxied.stop() }
        let page = try await proxied.client.send("GET", "/card", headers: ["X-Forwarded-Proto": "https"])
        #expect(page.setCookie("yj_csrf")?.contains("Secure") == true)
        let code = try cli.run("cards", "activation", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let api = try await proxied.client.json(
            "/api/v1/holder/activate",
            ["cardNo": "LZ0001", "activationCode": code, "pin": "482913"],
            headers: ["X-Forwarded-Proto": "https"]
        )
        let session = try #require(api.setCookie("yj_session"))
        #expect(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Strict"))
        let plain = try await proxied.client.send("GET", "/card")
        #expect(plain.setCookie("yj_csrf")?.contains("Secure") == false)
    }

    @Test("the cashier page's cookie is a device session, not the key: the shop lists and revokes it, and a new key ends it")
    func cashierDeviceSessions() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let client = server.client
        let login = try await client.form("/shop/login", page: "/shop", fields: ["key": key], cookies: [:])
        #expect(login.status == 303)
        let device = try #require(login.cookieValue("yj_shop"))
        #expect(device != key && !device.contains(key.dropFirst(4).prefix(10)), "the cookie does not carry the key")
        let list = try await client.send("GET", "/api/v1/shop/devices", headers: ["Authorization": "Bearer \(key)"])
        let devices = try #require(list.json["devices"] as? [[String: Any]])
        #expect(devices.count == 1)
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let verified = try await client.form("/shop/verify", page: "/shop", fields: ["code": code], cookies: ["yj_shop": device])
        #expect(verified.body.contains("✓ 有效"), "\(verified.body)")
        let id = try #require(devices.first?["id"] as? Int)
        #expect(try await client.send("DELETE", "/api/v1/shop/devices/\(id)", headers: ["Authorization": "Bearer \(key)"]).status == 204)
        let after = try await client.form("/shop/verify", page: "/shop", fields: ["code": code], cookies: ["yj_shop": device])
        #expect(after.status == 303, "a revoked device is sent back to sign in")
        let again = try #require(try await client.form("/shop/login", page: "/shop", fields: ["key": key]).cookieValue("yj_shop"))
        _ = try cli.run("merchants", "key", "1")
        let shop = try await client.send("GET", "/shop", headers: ["Cookie": "yj_shop=\(again)"])
        #expect(shop.body.contains("商户核验密钥"), "a new key signs every device out")
    }

    @Test("a sign-in burst beyond the PIN-hash queue gets 503 busy with Retry-After at once, and shops keep verifying")
    func pinHashQueueFull() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--pin-hash-queue", "0", "--form-rate-limit", "0"])
        defer { _ = server.stop() }
        let client = server.client
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for index in 0..<40 { group.addTask { try await client.json("/api/v1/holder/session", ["cardNo": "NO\(index)", "pin": "111222"]) } }
            return try await group.reduce(into: [HTTPReply]()) { $0.append($1) }
        }
        let busy = replies.filter { $0.status == 503 }
        #expect(!busy.isEmpty, "one hash at a time and no queue: most of 40 at once must be turned away")
        #expect(busy.allSatisfy { $0.error == "busy" && $0.headers["retry-after"] == "5" })
        #expect(replies.allSatisfy { $0.status == 503 || $0.status == 401 })
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await client.verify(code, key: key).json["valid"] as? Bool == true)
    }

    @Test("a made-up card number of 5,000 characters fails like any other and leaves nothing stored")
    func hugeCardNumber() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let huge = try await server.client.json("/api/v1/holder/session", ["cardNo": String(repeating: "9", count: 5000), "pin": "111222"])
        let normal = try await server.client.json("/api/v1/holder/session", ["cardNo": "LZ9999", "pin": "111222"])
        #expect(huge.status == 401)
        #expect(huge.message == normal.message)
        #expect(try cli.sqlite("SELECT COUNT(*) FROM sign_in_guards") == "1", "only the real-length number is counted")
    }
}
