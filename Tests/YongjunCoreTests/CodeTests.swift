import Crypto
import Foundation
import Testing
import YongjunCore

@Suite("Signed codes")
struct CodeTests {
    let key = makeKey(1)
    var issuer: CodeIssuer { CodeIssuer(key: key, issuer: "yongjun") }
    var verifier: CodeVerifier { CodeVerifier(keyRing: KeyRing(keys: [key]), issuer: "yongjun") }

    func issue(at now: Date = referenceNow, lifetime: Int = 180) throws -> IssuedCode {
        var generator = SeededGenerator(state: 7)
        return try issuer.issue(for: sampleSubject, now: now, lifetime: lifetime, using: &generator)
    }

    @Test("a code issued for a card verifies and carries category, masked name, times and kid")
    func roundTrip() throws {
        let code = try issue()
        let result = try verifier.verify(code.token, now: referenceNow, leeway: 30).get()
        #expect(result.kid == key.kid)
        #expect(result.claims.cat == "veteran")
        #expect(result.claims.name == "张*三")
        #expect(result.claims.sub == "card-abc")
        #expect(result.claims.exp - result.claims.iat == 180)
        #expect(result.claims.iss == "yongjun")
        #expect(result.claims.jti.count == 16)
    }

    @Test("the code's header is a standard EdDSA JWS header naming the kid, and the payload hides name and ID")
    func headerAndPayload() throws {
        let parts = try issue().token.split(separator: ".")
        #expect(parts.count == 3)
        let header = String(decoding: Base64URL.decode(parts[0])!, as: UTF8.self)
        #expect(header == #"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"JWT"}"#)
        let payload = String(decoding: Base64URL.decode(parts[1])!, as: UTF8.self)
        #expect(!payload.contains("张小三"))
        #expect(!payload.contains("小"))
    }

    @Test("garbage and truncated input is malformed", arguments: ["", "garbage", "a.b", "a.b.c.d", "!!!.???.###"])
    func malformed(_ text: String) {
        #expect(verifier.verify(text, now: referenceNow, leeway: 30) == .failure(.malformed))
    }

    @Test("input longer than any code is malformed before it is parsed")
    func oversized() {
        #expect(verifier.verify(String(repeating: "A", count: 5000), now: referenceNow, leeway: 30) == .failure(.malformed))
    }

    @Test("a truncated real code is rejected, never accepted")
    func truncated() throws {
        let token = try issue().token
        for cut in [10, token.count / 2, token.count - 1] {
            let result = verifier.verify(String(token.prefix(cut)), now: referenceNow, leeway: 30)
            #expect(result == .failure(.malformed) || result == .failure(.badSignature))
        }
    }

    @Test("a header with alg none or without kid is malformed")
    func badHeaders() throws {
        let parts = try issue().token.split(separator: ".")
        for header in [#"{"alg":"none","kid":"\#(key.kid)"}"#, #"{"alg":"EdDSA"}"#, #"{"alg":"HS256","kid":"\#(key.kid)"}"#] {
            let forged = Base64URL.encode(Array(header.utf8)) + "." + parts[1] + "." + parts[2]
            #expect(verifier.verify(forged, now: referenceNow, leeway: 30) == .failure(.malformed))
        }
    }

    @Test("an edited payload fails with bad_signature")
    func editedPayload() throws {
        let parts = try issue().token.split(separator: ".")
        var claims = try JSONDecoder().decode(CodeClaims.self, from: Data(Base64URL.decode(parts[1])!))
        claims.cat = "active_duty"
        let forged = parts[0] + "." + Base64URL.encode(try JSONEncoder().encode(claims)) + "." + parts[2]
        #expect(verifier.verify(String(forged), now: referenceNow, leeway: 30) == .failure(.badSignature))
    }

    @Test("a code signed by another key that claims our kid fails with bad_signature")
    func forgedWithOurKid() throws {
        let impostor = SigningKey(kid: key.kid, createdAt: referenceNow, privateKey: Curve25519.Signing.PrivateKey())
        var generator = SeededGenerator(state: 3)
        let forged = try CodeIssuer(key: impostor, issuer: "yongjun").issue(for: sampleSubject, now: referenceNow, using: &generator)
        #expect(verifier.verify(forged.token, now: referenceNow, leeway: 30) == .failure(.badSignature))
    }

    @Test("a code whose kid is not in the key ring fails with unknown_key")
    func unknownKey() throws {
        var generator = SeededGenerator(state: 4)
        let other = try CodeIssuer(key: makeKey(99), issuer: "yongjun").issue(for: sampleSubject, now: referenceNow, using: &generator)
        #expect(verifier.verify(other.token, now: referenceNow, leeway: 30) == .failure(.unknownKey))
    }

    @Test("a code from another issuer is malformed")
    func otherIssuer() throws {
        var generator = SeededGenerator(state: 5)
        let code = try CodeIssuer(key: key, issuer: "elsewhere").issue(for: sampleSubject, now: referenceNow, using: &generator)
        #expect(verifier.verify(code.token, now: referenceNow, leeway: 30) == .failure(.malformed))
    }

    @Test("expiry and not-before allow exactly the leeway, and not a second more")
    func clockSkewEdges() throws {
        let code = try issue(lifetime: 180)
        let start = referenceNow.timeIntervalSince1970.rounded(.down)
        func at(_ offset: Double) -> Result<CodeVerifier.Authenticated, CodeRejection> {
            verifier.verify(code.token, now: Date(timeIntervalSince1970: start + offset), leeway: 30)
        }
        #expect((try? at(180 + 29).get()) != nil)
        #expect(at(180 + 30) == .failure(.expired))
        #expect(at(-30).map(\.kid) == .success(key.kid))
        #expect(at(-31) == .failure(.notYetValid))
        #expect(verifier.verify(code.token, now: Date(timeIntervalSince1970: start + 180), leeway: 0) == .failure(.expired))
        #expect((try? verifier.verify(code.token, now: Date(timeIntervalSince1970: start + 179.9), leeway: 0).get()) != nil)
    }

    @Test("after a rotation new codes use the new key and codes signed with the old key still verify")
    func rotation() throws {
        let newer = makeKey(2, now: referenceNow.addingTimeInterval(60))
        let ring = KeyRing(keys: [newer, key])
        #expect(ring.current?.kid == newer.kid)
        let verifier = CodeVerifier(keyRing: ring, issuer: "yongjun")
        let old = try issue()
        var generator = SeededGenerator(state: 8)
        let fresh = try CodeIssuer(key: ring.current!, issuer: "yongjun").issue(for: sampleSubject, now: referenceNow, using: &generator)
        #expect(try verifier.verify(old.token, now: referenceNow, leeway: 30).get().kid == key.kid)
        #expect(try verifier.verify(fresh.token, now: referenceNow, leeway: 30).get().kid == newer.kid)
        #expect(ring.jwks.keys.map(\.kid) == [key.kid, newer.kid])
    }

    @Test("the JWKS publishes each key as an RFC 8037 OKP Ed25519 key with kid")
    func jwks() throws {
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(KeyRing(keys: [key]).jwks)) as! [String: [[String: String]]]
        let published = try #require(json["keys"]?.first)
        #expect(published["kty"] == "OKP")
        #expect(published["crv"] == "Ed25519")
        #expect(published["alg"] == "EdDSA")
        #expect(published["kid"] == key.kid)
        #expect(Base64URL.decode(published["x"]!) == Array(key.publicKey.rawRepresentation))
        #expect(published["d"] == nil)
    }
}

@Suite("Time claims from outside")
struct ClaimBoundsTests {
    let key = makeKey(3)

    func verdict(iat: Int, nbf: Int, exp: Int) throws -> Result<CodeVerifier.Authenticated, CodeRejection> {
        let claims = CodeClaims(iss: "yongjun", sub: "card-abc", jti: "J", iat: iat, nbf: nbf, exp: exp, cat: "veteran", name: "张*三")
        let token = try CodeIssuer(key: key, issuer: "yongjun").sign(claims)
        return CodeVerifier(keyRing: KeyRing(keys: [key]), issuer: "yongjun").verify(token, now: referenceNow, leeway: 30)
    }

    @Test("extreme and inconsistent times signed with a real key are typed rejections, never a trap")
    func extremes() throws {
        let now = Int(referenceNow.timeIntervalSince1970)
        #expect(try verdict(iat: now, nbf: now, exp: .max) == .failure(.malformed))
        #expect(try verdict(iat: .min, nbf: .min, exp: now) == .failure(.malformed))
        #expect(try verdict(iat: .max, nbf: .max, exp: .max) == .failure(.malformed))
        #expect(try verdict(iat: now, nbf: now + 10, exp: now) == .failure(.malformed))
        #expect(try verdict(iat: now, nbf: now - 31, exp: now + 60) == .failure(.malformed))
        #expect(try verdict(iat: now, nbf: now, exp: now + CodeClaims.longestLifetime + 1) == .failure(.malformed))
        #expect(try verdict(iat: now + 1_000_000, nbf: now + 1_000_000, exp: now + 1_000_180) == .failure(.notYetValid))
        #expect(try verdict(iat: now, nbf: now, exp: now + CodeClaims.longestLifetime).map(\.claims.jti) == .success("J"))
    }

    @Test("saturating addition pins instead of trapping")
    func saturating() {
        #expect(Int.max.saturatingAdd(30) == .max)
        #expect(Int.min.saturatingAdd(-30) == .min)
        #expect(5.saturatingAdd(-7) == -2)
    }
}
