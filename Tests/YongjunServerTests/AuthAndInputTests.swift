import Foundation
import HummingbirdTesting
import Testing
import YongjunCore
import YongjunServer
import YongjunStorage

@Suite("Shop authentication and bad input", .timeLimit(.minutes(5)))
struct AuthAndInputTests {
    @Test("a missing, malformed, unknown or wrong key gets 401 with a typed error and WWW-Authenticate")
    func unauthorized() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var generator = SystemRandomNumberGenerator()
        let stranger = MerchantAPIKey.generate(using: &generator).text
        let wrongSecret = "yjk_\(fixture.apiKey.keyID)_" + Base64URL.encode([UInt8](repeating: 7, count: 32))
        let code = try fixture.code()
        try await fixture.application().test(.live) { client in
            let missing = try await client.verify(code, key: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing.error == "missing_api_key")
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            for key in ["not-a-key", stranger, wrongSecret] {
                let answer = try await client.verify(code, key: key)
                #expect(answer.status == .unauthorized)
                #expect(answer.error == "unknown_api_key")
            }
            #expect(try fixture.database.verificationCount() == 0)
        }
    }

    @Test("a suspended or revoked shop gets 403 and its previous key stops working after a new one is issued")
    func forbidden() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let code = try fixture.code()
        try await fixture.application().test(.live) { client in
            let database = fixture.database
            _ = try database.changeMerchantStatus(id: fixture.merchantID, to: .suspended, reason: "装修", now: Date())
            let suspended = try await client.verify(code, key: fixture.apiKey.text)
            #expect(suspended.status == .forbidden)
            #expect(suspended.error == "merchant_suspended")
            _ = try database.changeMerchantStatus(id: fixture.merchantID, to: .active, reason: nil, now: Date())
            var generator = SystemRandomNumberGenerator()
            let newKey = MerchantAPIKey.generate(using: &generator)
            try database.replaceMerchantKey(merchantID: fixture.merchantID, with: newKey, now: Date())
            #expect(try await client.verify(code, key: fixture.apiKey.text).error == "unknown_api_key")
            #expect(try await client.verify(code, key: newKey.text).valid == true)
            _ = try database.changeMerchantStatus(id: fixture.merchantID, to: .revoked, reason: "拒绝持证人", now: Date())
            #expect(try await client.verify(try fixture.code(), key: newKey.text).error == "merchant_revoked")
            #expect(throws: RegisterError.self) { try database.changeMerchantStatus(id: fixture.merchantID, to: .active, reason: nil, now: Date()) }
        }
    }

    @Test("bodies that are not the expected JSON get 400, oversized bodies 413, never 500")
    func badBodies() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let key = fixture.apiKey.text
        try await fixture.application().test(.live) { client in
            for body in ["", "not json", "[]", "{}", #"{"code": 42}"#, #"{"code": null}"#, "{\"code\": \"abc", #"{"code":"x","nonce":""}"#] {
                let answer = try await client.post(body: body, key: key)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.error == "bad_request")
            }
            let tooLong = try await client.verify("x", key: key, nonce: String(repeating: "n", count: 129))
            #expect(tooLong.status == .badRequest)
            let huge = try await client.post(body: #"{"code":""# + String(repeating: "A", count: 40_000) + #""}"#, key: key)
            #expect(huge.status == .contentTooLarge)
            #expect(huge.error == "body_too_large")
            let binary = try await client.post(body: String(decoding: (0..<255).map { UInt8($0) }, as: UTF8.self), key: key)
            #expect(binary.status == .badRequest)
        }
    }
}

@Suite("Published keys", .timeLimit(.minutes(5)))
struct KeyPublicationTests {
    @Test("the JWKS lists the signing key as an OKP Ed25519 key with its kid and no private part")
    func jwks() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.application().test(.live) { client in
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/jwk-set+json")
                let body = String(buffer: response.body)
                let jwks = try JSONDecoder().decode(JWKS.self, from: Data(body.utf8))
                #expect(jwks.keys.map(\.kid) == [fixture.signingKey.kid])
                #expect(jwks.keys.first?.crv == "Ed25519")
                #expect(!body.contains("\"d\""))
            }
        }
    }

    @Test("after keys rotate on disk, the running server verifies new-key codes, keeps old ones, and publishes both")
    func rotationWhileRunning() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let oldCode = try fixture.code()
        try await fixture.application().test(.live) { client in
            #expect(try await client.verify(try fixture.code(), key: fixture.apiKey.text).valid == true)
            let newKey = try fixture.keyStore.rotate(now: Date())
            let newCode = try fixture.code(key: newKey)
            #expect(try await client.verify(newCode, key: fixture.apiKey.text).valid == true)
            #expect(try await client.verify(oldCode, key: fixture.apiKey.text).valid == true)
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response in
                let jwks = try JSONDecoder().decode(JWKS.self, from: Data(String(buffer: response.body).utf8))
                #expect(Set(jwks.keys.map(\.kid)) == [fixture.signingKey.kid, newKey.kid])
            }
        }
    }
}
