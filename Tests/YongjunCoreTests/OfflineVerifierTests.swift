import CompressNIO
import Crypto
import Foundation
import NIOCore
import Testing
import YongjunCore
import YongjunVerifier

/// The offline verdict from a snapshot, with the device clock given: the cases a device meets in a town shop.
@Suite("Offline verifier")
struct OfflineVerifierTests {
    let key = makeKey(21)
    let uri = "https://yongjun.example.cn/api/v1/status-list"
    let synced = Int(referenceNow.timeIntervalSince1970)

    func statusListToken(_ list: StatusList, signer: SigningKey? = nil, lst: String? = nil) throws -> String {
        let claims = StatusListClaims(
            iss: "yongjun",
            sub: uri,
            iat: synced,
            exp: synced + 86_400 + 300,
            ttl: 300,
            statusList: .init(bits: 2, lst: try lst ?? Base64URL.encode(list.compressed()))
        )
        return try (signer ?? key).sign(claims, type: StatusListClaims.type)
    }

    func snapshot(list: StatusList? = nil, statusList: String? = nil, shopStatus: String = "active") throws -> String {
        var standard = StatusList(count: StatusList.minimumCount)
        standard.set(5, .revoked)
        standard.set(6, .expired)
        standard.set(7, .reserved)
        let claims = ShopSnapshot(
            iss: "yongjun",
            iat: synced,
            maxOfflineAge: 86_400,
            clockLeeway: 30,
            jwks: KeyRing(keys: [key]).jwks,
            statusList: try statusList ?? statusListToken(list ?? standard),
            shop: .init(id: 1, name: "老兵汽修", industry: "vehicle_repair", status: shopStatus, benefit: "9折")
        )
        return try key.sign(claims, type: ShopSnapshot.type)
    }

    func code(idx: Int?, uri: String? = nil, lifetime: Int = 180, at seconds: Int? = nil) throws -> String {
        let now = seconds ?? synced + 600
        let claims = CodeClaims(
            iss: "yongjun",
            sub: "card-abc",
            jti: "JTI\(idx ?? -1)",
            iat: now,
            nbf: now,
            exp: now + lifetime,
            cat: "veteran",
            name: "张*三",
            status: idx.map { StatusClaim(idx: $0, uri: uri ?? self.uri) }
        )
        return try key.sign(claims, type: "JWT")
    }

    func at(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    @Test("a genuine code is valid once; revoked, expired and reserved entries and codes without an entry are refused")
    func verdicts() throws {
        let verifier = try ShopSnapshot.open(try snapshot()).get()
        let now = at(synced + 600)
        let valid = verifier.verify(try code(idx: 1), now: now, alreadyUsed: { _ in false })
        #expect(valid.valid)
        #expect(valid.use?.key == "JTI1")
        #expect(verifier.verify(try code(idx: 1), now: now, alreadyUsed: { $0 == "JTI1" }).reason == .alreadyUsedHere)
        #expect(verifier.verify(try code(idx: 5), now: now, alreadyUsed: { _ in false }).reason == .cardRevoked)
        #expect(verifier.verify(try code(idx: 6), now: now, alreadyUsed: { _ in false }).reason == .cardExpired)
        #expect(verifier.verify(try code(idx: 7), now: now, alreadyUsed: { _ in false }).reason == .offlineUnsupported)
        #expect(verifier.verify(try code(idx: nil), now: now, alreadyUsed: { _ in false }).reason == .offlineUnsupported)
        #expect(verifier.verify(try code(idx: 1, uri: "https://elsewhere/list"), now: now, alreadyUsed: { _ in false }).reason == .offlineUnsupported)
        #expect(verifier.verify(try code(idx: StatusList.minimumCount + 4), now: now, alreadyUsed: { _ in false }).reason == .malformed)
        #expect(verifier.verify("123456789", now: now, alreadyUsed: { _ in false }).reason == .offlineUnsupported)
        #expect(verifier.verify(try code(idx: 1, at: synced), now: at(synced + 600), alreadyUsed: { _ in false }).reason == .expired)
        // A printed credential (years of validity) counts once per China calendar day, as on the server.
        let printed = verifier.verify(try code(idx: 2, lifetime: 365 * 86_400, at: synced), now: now, alreadyUsed: { _ in false })
        #expect(printed.use?.key == "JTI2@" + CalendarDate(chinaDayOf: now).description)
    }

    @Test("a device clock set back before the sync, or a snapshot past its offline age, asks for a sync")
    func clockAndAge() throws {
        let verifier = try ShopSnapshot.open(try snapshot()).get()
        #expect(verifier.freshness(now: at(synced - 10)) == nil)
        #expect(verifier.freshness(now: at(synced - 31)) == .syncRequired)
        #expect(verifier.verify(try code(idx: 1, at: synced - 3600), now: at(synced - 3600), alreadyUsed: { _ in false }).reason == .syncRequired)
        #expect(verifier.freshness(now: at(synced + 86_399)) == nil)
        #expect(verifier.freshness(now: at(synced + 86_400)) == .syncRequired)
        #expect(verifier.verify(try code(idx: 1, at: synced + 90_000), now: at(synced + 90_000), alreadyUsed: { _ in false }).reason == .syncRequired)
    }

    @Test("an edited snapshot, a foreign status list, a zlib bomb and a suspended shop's snapshot are refused")
    func tampering() throws {
        let good = try snapshot()
        var parts = good.split(separator: ".").map(String.init)
        var payload = try #require(Base64URL.decode(parts[1]))
        let text = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: #""maxOfflineAge":86400"#, with: #""maxOfflineAge":8640000"#)
        payload = Array(text.utf8)
        parts[1] = Base64URL.encode(payload)
        #expect(throws: ShopSnapshot.Problem.tampered) { try ShopSnapshot.open(parts.joined(separator: ".")).get() }

        let stranger = makeKey(99)
        let foreignList = try statusListToken(StatusList(count: StatusList.minimumCount), signer: stranger)
        #expect(throws: ShopSnapshot.Problem.tampered) { try ShopSnapshot.open(try snapshot(statusList: foreignList)).get() }

        // 32 MB of zeros compresses to a few kB; the device refuses to inflate past 16 MB.
        var zeros = ByteBuffer(repeating: 0, count: 32 << 20)
        let bomb = Base64URL.encode(Array(try zeros.compress(with: .zlib()).readableBytesView))
        let bombList = try statusListToken(StatusList(count: 4), lst: bomb)
        #expect(throws: ShopSnapshot.Problem.tampered) { try ShopSnapshot.open(try snapshot(statusList: bombList)).get() }

        #expect(throws: ShopSnapshot.Problem.shopNotActive) { try ShopSnapshot.open(try snapshot(shopStatus: "suspended")).get() }

        // A status list or a snapshot is never taken for a code, though signed by the same key.
        let verifier = try ShopSnapshot.open(good).get()
        #expect(verifier.verify(try statusListToken(StatusList(count: 8)), now: at(synced + 10), alreadyUsed: { _ in false }).reason == .malformed)
        #expect(verifier.verify(good, now: at(synced + 10), alreadyUsed: { _ in false }).reason == .malformed)
    }

    @Test("status list entries: 2 bits each, least significant first, as the IETF draft's example lays them out")
    func bitLayout() throws {
        // draft-ietf-oauth-status-list, 2-bit example: statuses [1,2,0,3,0,1,0,1,1,2,3,3] give bytes C9 44 F9.
        var list = StatusList(count: 12)
        for (index, value) in [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3].enumerated() { list.set(index, StatusList.Value(rawValue: UInt8(value))!) }
        #expect(list.bytes == [0xC9, 0x44, 0xF9])
        let back = try #require(StatusList(compressed: try list.compressed()))
        #expect(back == list)
        #expect(StatusIndexAllocator.capacity(cards: 9_359) == 131_072)
        #expect(StatusIndexAllocator.capacity(cards: 1_000_000) == 2_097_152)
        var allocator = StatusIndexAllocator(taken: [], cards: 10)
        var generator = SeededGenerator(state: 7)
        let given = (0..<1000).map { _ in allocator.next(using: &generator) }
        #expect(Set(given).count == 1000)
        #expect(given.allSatisfy { (0..<131_072).contains($0) })
    }
}

/// The plain-JSON fast path for claims either agrees with JSONDecoder or steps aside; it is never wrong.
@Suite("Plain JSON fast path for code claims")
struct PlainJSONTests {
    @Test(
        "claims bodies of every awkward kind: the fast path and JSONDecoder agree",
        arguments: [
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"张*三","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"张*三","nbf":1795000000,"status":{"status_list":{"idx":7,"uri":"https://x/l"}},"sub":"c"}"#,
            #"{ "cat" : "veteran", "exp": 1795000180, "iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c" }"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"\u5f20","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180.0,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1e9,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":9223372036854775807,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1,"exp":2,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c","extra":true}"#,
            #"{"cat":"veteran","exp":01795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":-5,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"status":{"status_list":{"idx":"7","uri":"u"}},"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":"a","nbf":1795000000,"sub":"c"} x"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","nbf":1795000000,"sub":"c"}"#,
            #"{"cat":"veteran","exp":1795000180,"iat":1795000000,"iss":"yongjun","jti":"J","name":null,"nbf":1795000000,"sub":"c"}"#,
        ]
    )
    func agree(_ text: String) {
        let bytes = Array(text.utf8)
        let decoded = try? JSONDecoder().decode(CodeClaims.self, from: Data(bytes))
        if let fast = CodeClaims(plain: bytes) {
            #expect(fast == decoded, "the fast path read \(text) differently")
        }
    }

    @Test("what our signer writes always takes the fast path")
    func ownOutput() throws {
        let claims = CodeClaims(
            iss: "yongjun",
            sub: "card-abc",
            jti: "ABCDEF",
            iat: 1_795_000_000,
            nbf: 1_795_000_000,
            exp: 1_795_000_180,
            cat: "martyr_family",
            name: "欧阳*华",
            status: StatusClaim(idx: 131_071, uri: "https://yongjun.example.cn/api/v1/status-list")
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(CodeClaims(plain: Array(try encoder.encode(claims))) == claims)
    }
}
