import Crypto
import Foundation
import HummingbirdTesting
import Testing
import YongjunCore
import YongjunServer
import YongjunStorage

@Suite("POST /api/v1/verifications over real HTTP", .timeLimit(.minutes(5)))
struct VerificationAPITests {
    @Test("a valid code answers with category, label, masked holder, card expiry and a recorded verification id")
    func validCode() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let code = try fixture.code()
        try await fixture.application().test(.live) { client in
            let answer = try await client.verify(code, key: fixture.apiKey.text)
            #expect(answer.status == .ok)
            #expect(answer.valid == true)
            #expect(answer.json["category"] as? String == "veteran")
            #expect(answer.json["categoryLabel"] as? String == "退役军人")
            #expect(answer.json["holder"] as? String == "张*三")
            #expect(answer.json["cardExpires"] as? String == "2099-12-31")
            let recorded = try fixture.database.latestVerifications(limit: 1)
            #expect(recorded.first?.id == answer.verificationID)
            #expect(recorded.first?.valid == true)
            #expect(recorded.first?.merchantID == fixture.merchantID)
            #expect(!(recorded.first?.response.contains(Fixture.holderName) ?? true))
        }
    }

    @Test("every rejection reason comes back typed, with a Chinese message, and is recorded")
    func everyReason() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let now = Date()
        let good = try fixture.code()
        let parts = good.split(separator: ".")
        var tamperedClaims = try JSONDecoder().decode(CodeClaims.self, from: Data(Base64URL.decode(parts[1])!))
        tamperedClaims.cat = "active_duty"
        let tampered = "\(parts[0]).\(Base64URL.encode(try JSONEncoder().encode(tamperedClaims))).\(parts[2])"
        var generator = SystemRandomNumberGenerator()
        let strangerKey = SigningKey.generate(now: now, using: &generator)
        var ghostClaims = tamperedClaims
        ghostClaims.sub = "no-such-card"
        ghostClaims.jti = "ghost"
        ghostClaims.cat = "veteran"
        let cases: [(String, String)] = [
            ("garbage", "malformed"),
            (String(good.prefix(good.count / 2)), "malformed"),
            (String(repeating: "x", count: 3000), "malformed"),
            (tampered, "bad_signature"),
            (try fixture.code(key: strangerKey), "unknown_key"),
            (try fixture.code(now: now.addingTimeInterval(-600)), "expired"),
            (try fixture.code(now: now.addingTimeInterval(600)), "not_yet_valid"),
            (try fixture.code(card: "LZ0003"), "card_expired"),
            (try CodeIssuer(key: fixture.signingKey, issuer: "yongjun").sign(ghostClaims), "unknown_card"),
        ]
        try await fixture.application().test(.live) { client in
            for (code, reason) in cases {
                let answer = try await client.verify(code, key: fixture.apiKey.text)
                #expect(answer.status == .ok, "\(reason)")
                #expect(answer.valid == false, "\(reason)")
                #expect(answer.reason == reason)
                #expect((answer.json["message"] as? String)?.isEmpty == false)
                #expect(answer.json["holder"] == nil)
            }
            let recorded = try fixture.database.latestVerifications(limit: 100)
            #expect(recorded.count == cases.count)
            #expect(Set(recorded.compactMap(\.reason)) == Set(cases.map(\.1)))
        }
    }

    @Test("the same code twice at one shop is already_used_here, but valid at another shop")
    func alreadyUsedHere() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let (_, otherKey) = try fixture.addMerchant()
        let code = try fixture.code()
        try await fixture.application().test(.live) { client in
            #expect(try await client.verify(code, key: fixture.apiKey.text).valid == true)
            let again = try await client.verify(code, key: fixture.apiKey.text)
            #expect(again.valid == false)
            #expect(again.reason == "already_used_here")
            #expect(try await client.verify(code, key: otherKey.text).valid == true)
        }
    }

    @Test("a retry with the same nonce returns the first answer and records nothing new")
    func idempotentRetry() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let code = try fixture.code()
        try await fixture.application().test(.live) { client in
            let first = try await client.verify(code, key: fixture.apiKey.text, nonce: "till-7-000123")
            let retry = try await client.verify(code, key: fixture.apiKey.text, nonce: "till-7-000123")
            #expect(first.valid == true)
            #expect(retry.valid == true)
            #expect(retry.verificationID == first.verificationID)
            #expect(try fixture.database.verificationCount() == 1)
            let fresh = try await client.verify(code, key: fixture.apiKey.text, nonce: "till-7-000124")
            #expect(fresh.reason == "already_used_here")
        }
    }

    @Test("a revoked card's codes are refused at once, also when another connection revokes it")
    func revocationAtOnce() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            #expect(try await client.verify(try fixture.code(), key: fixture.apiKey.text).valid == true)
            // A second, independent connection to the same file, as the admin CLI has.
            let admin = try AppDatabase.open(in: fixture.directory)
            try admin.revokeCard(number: "LZ0001", reason: "证件遗失", now: Date())
            let answer = try await client.verify(try fixture.code(), key: fixture.apiKey.text)
            #expect(answer.reason == "card_revoked")
        }
    }

    @Test("parallel verifications are all answered and recorded; one code raced at one shop wins once")
    func concurrency() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let codes = try (0..<40).map { _ in try fixture.code(card: ["LZ0001", "LZ0002"].randomElement()!) }
        let raced = try fixture.code()
        try await fixture.application().test(.live) { client in
            let results = try await withThrowingTaskGroup(of: Bool?.self) { group in
                for code in codes + Array(repeating: raced, count: 20) {
                    group.addTask { try await client.verify(code, key: fixture.apiKey.text).valid }
                }
                return try await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            #expect(results.filter { $0 == true }.count == 41)
            #expect(results.filter { $0 == false }.count == 19)
            #expect(try fixture.database.verificationCount() == 60)
        }
    }

    @Test("used codes and nonces are remembered across a restart")
    func restart() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let code = try fixture.code()
        let first = try await fixture.application().test(.live) { client in
            try await client.verify(code, key: fixture.apiKey.text, nonce: "n-1")
        }
        try await fixture.application().test(.live) { client in
            let again = try await client.verify(code, key: fixture.apiKey.text)
            #expect(again.reason == "already_used_here")
            let retry = try await client.verify(code, key: fixture.apiKey.text, nonce: "n-1")
            #expect(retry.verificationID == first.verificationID)
            #expect(retry.valid == true)
        }
    }
}
