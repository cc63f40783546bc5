import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import YongjunCore
import YongjunServer
import YongjunStorage

extension TestClientProtocol {
    /// POST JSON (optionally with a cookie) and return status, JSON, headers.
    func send(_ method: HTTPRequest.Method, _ path: String, json: [String: String]? = nil, cookie: String? = nil) async throws -> APIAnswer {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let cookie { headers[.cookie] = cookie }
        let body = try json.map { ByteBuffer(data: try JSONSerialization.data(withJSONObject: $0)) }
        return try await execute(uri: path, method: method, headers: headers, body: body) { response in
            let parsed = try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
            return APIAnswer(status: response.status, json: parsed as? [String: Any] ?? ["array": parsed ?? []], headers: response.headers)
        }
    }
}

extension APIAnswer {
    /// `name=value` of the session cookie the answer set.
    var sessionCookie: String? {
        headers[values: .setCookie].first { $0.hasPrefix("yj_session=") }?.split(separator: ";").first.map(String.init)
    }
}

@Suite("Holder API over real HTTP", .timeLimit(.minutes(5)))
struct HolderAPITests {
    @Test("activation with the printed code sets a PIN and a session; the code endpoint gives a signed code and a short code that verify")
    func activationAndCode() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.database.issueActivation(cardNo: "LZ0001", code: "abcd-efgh-jkmn", now: Date())
        try await fixture.application().test(.live) { client in
            let wrong = try await client.send(
                .post,
                "/api/v1/holder/activate",
                json: ["cardNo": "LZ0001", "activationCode": "zzzz-zzzz-zzzz", "pin": "482913"]
            )
            #expect(wrong.status == .unauthorized)
            #expect(wrong.error == "wrong_credentials")
            let weak = try await client.send(
                .post,
                "/api/v1/holder/activate",
                json: ["cardNo": "LZ0001", "activationCode": "ABCD EFGH JKMN", "pin": "123456"]
            )
            #expect(weak.status == .badRequest)
            #expect(weak.error == "weak_pin")
            let activated = try await client.send(
                .post,
                "/api/v1/holder/activate",
                json: ["cardNo": "LZ0001", "activationCode": "ABCD EFGH JKMN", "pin": "482913"]
            )
            #expect(activated.status == .ok)
            #expect(activated.json["holder"] as? String == "张*三")
            let setCookie = activated.headers[values: .setCookie].joined()
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            let cookie = try #require(activated.sessionCookie)
            let again = try await client.send(
                .post,
                "/api/v1/holder/activate",
                json: ["cardNo": "LZ0001", "activationCode": "abcd-efgh-jkmn", "pin": "482913"]
            )
            #expect(again.status == .unauthorized, "activating twice fails like any wrong code: it tells nothing about the card")
            #expect(again.error == "wrong_credentials")
            #expect((again.json["message"] as? String)?.contains("已激活的请直接用 PIN 登录") == true)
            let garbage = try await client.post(body: "pin=1", key: nil, path: "/api/v1/holder/session")
            #expect(garbage.status == .badRequest)
            #expect((garbage.json["message"] as? String)?.contains("cardNo") == true)

            #expect(try await client.send(.get, "/api/v1/holder/code").error == "not_signed_in")
            let issued = try await client.send(.get, "/api/v1/holder/code", cookie: cookie)
            #expect(issued.status == .ok)
            let code = try #require(issued.json["code"] as? String)
            let shortCode = try #require(issued.json["shortCode"] as? String)
            #expect(shortCode.count == 9 && shortCode.allSatisfy(\.isNumber))
            #expect(issued.json["expiresAt"] as? String != nil)
            #expect(issued.json["categoryLabel"] as? String == "退役军人")

            let (_, otherKey) = try fixture.addMerchant()
            #expect(try await client.verify(shortCode, key: fixture.apiKey.text).valid == true)
            #expect(try await client.verify(shortCode, key: otherKey.text).reason == "unknown_short_code")
            #expect(try await client.verify(code, key: otherKey.text).valid == true)

            let signedIn = try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0001", "pin": "482913"])
            #expect(signedIn.status == .ok)
            #expect(signedIn.sessionCookie != nil)

            try fixture.database.revokeCard(number: "LZ0001", reason: "证件遗失", now: Date())
            let refused = try await client.send(.get, "/api/v1/holder/code", cookie: cookie)
            #expect(refused.status == .forbidden)
            #expect(refused.error == "card_revoked")
        }
    }

    @Test("wrong PINs are counted and lock the card with 429 and the time to wait; the bureau can clear the lock")
    func pinLock() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try fixture.database.issueActivation(cardNo: "LZ0002", code: "pqrs-tuvw-xyz2", now: Date())
        try await fixture.application().test(.live) { client in
            let notActivated = try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0002", "pin": "482913"])
            #expect(notActivated.error == "wrong_credentials", "a card not yet activated fails like a wrong PIN")
            #expect(
                try await client.send(
                    .post,
                    "/api/v1/holder/activate",
                    json: ["cardNo": "LZ0002", "activationCode": "pqrstuvwxyz2", "pin": "482913"]
                ).status == .ok
            )
            for attempt in 1...4 {
                let wrong = try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0002", "pin": "111222"])
                #expect(wrong.status == .unauthorized)
                #expect((wrong.json["message"] as? String)?.contains("还可尝试 \(5 - attempt) 次") == true)
            }
            let locked = try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0002", "pin": "111222"])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.error == "locked")
            #expect(locked.headers[.retryAfter] == "900")
            let stillLocked = try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0002", "pin": "482913"])
            #expect(stillLocked.status == .tooManyRequests)
            #expect(try fixture.database.holderAccountStatus(cardNo: "LZ0002")?.lockedUntil != nil, "the bureau sees the lock")
            try fixture.database.unlockHolder(cardNo: "LZ0002", now: Date())
            #expect(try fixture.database.holderAccountStatus(cardNo: "LZ0002")?.lockedUntil == nil)
            #expect(try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ0002", "pin": "482913"]).status == .ok)
            #expect(try await client.send(.post, "/api/v1/holder/session", json: ["cardNo": "LZ9999", "pin": "482913"]).error == "wrong_credentials")
        }
    }

    @Test("guessing short codes is cut off per shop key after ten misses")
    func shortCodeGuessing() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            for guess in 0..<10 {
                #expect(try await client.verify(String(format: "%09d", guess), key: fixture.apiKey.text).reason == "unknown_short_code")
            }
            let blocked = try await client.verify("123456789", key: fixture.apiKey.text)
            #expect(blocked.status == .tooManyRequests)
            #expect(blocked.error == "too_many_guesses")
            #expect(try await client.verify(try fixture.code(), key: fixture.apiKey.text).valid == true)
        }
    }

    @Test("the directory lists active partner shops, filters by industry, and drops suspended ones at once")
    func directory() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let (restaurant, _) = try fixture.addMerchant(name: "拥军饭店")
        try await fixture.application().test(.live) { client in
            let all = try await client.send(.get, "/api/v1/merchants")
            let shops = all.json["array"] as? [[String: Any]] ?? []
            #expect(shops.compactMap { $0["name"] as? String } == ["老兵汽修", "拥军饭店"])
            let catering = try await client.send(.get, "/api/v1/merchants?industry=catering").json["array"] as? [[String: Any]] ?? []
            #expect(catering.compactMap { $0["name"] as? String } == ["拥军饭店"])
            #expect(try await client.send(.get, "/api/v1/merchants?industry=bank").status == .badRequest)
            _ = try fixture.database.changeMerchantStatus(id: restaurant, to: .suspended, reason: "停业整顿", now: Date())
            let after = try await client.send(.get, "/api/v1/merchants").json["array"] as? [[String: Any]] ?? []
            #expect(after.compactMap { $0["name"] as? String } == ["老兵汽修"])
        }
    }
}
