import Foundation
import Testing
import YongjunCore
import YongjunStorage

/// Codes signed with the server's own key that probe each rule of the offline verdict: claim shapes and types,
/// bounds and times, the status entry, the JWS header, the signature, and what is not a code at all.
struct AwkwardCodes {
    let signer: SigningKey
    let stranger: SigningKey
    let uri: String
    let valid: String
    let revoked: String
    let now = Int(Date().timeIntervalSince1970)

    init(cli: CLI) throws {
        signer = try #require(try KeyStore(directory: DataDirectory(path: cli.dataDirectory)).loadKeyRing().current)
        var generator = SystemRandomNumberGenerator()
        stranger = SigningKey.generate(now: Date(), using: &generator)
        uri = try cli.sqlite("SELECT value FROM service_state WHERE name = 'status_list_uri'")
        valid = try cli.sqlite("SELECT status_idx FROM cards WHERE card_no = 'LZ0001'")
        revoked = try cli.sqlite("SELECT status_idx FROM cards WHERE card_no = 'LZ0002'")
    }

    func entry(_ idx: String, uri: String? = nil) -> String {
        #"{"status_list":{"idx":\#(idx),"uri":"\#(uri ?? self.uri)"}}"#
    }

    /// A claims object: a fresh phone code for LZ0001, with `changes` as raw JSON values (nil removes the claim).
    func claims(_ changes: [String: String?] = [:]) -> String {
        var fields: [String: String] = [
            "iss": #""yongjun""#, "sub": #""card-1""#, "jti": "\"\(UUID().uuidString)\"", "iat": "\(now)", "nbf": "\(now)",
            "exp": "\(now + 180)", "cat": #""veteran""#, "name": #""张*三""#, "status": entry(valid),
        ]
        for (name, value) in changes { fields[name] = value }
        return "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    /// Claims whose `"cat":"veteran"` member is replaced by `members` (to repeat a key).
    func category(_ members: String) -> String { claims().replacingOccurrences(of: #""cat":"veteran""#, with: members) }

    func nested(_ depth: Int) -> String { String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }

    func jws(_ payload: String, header: String? = nil, key: SigningKey? = nil) throws -> String {
        let key = key ?? signer
        let header = header ?? #"{"alg":"EdDSA","kid":"\#(key.kid)","typ":"JWT"}"#
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try key.privateKey.signature(for: Array(input.utf8)))
    }

    /// Each case's name and code; the first is a plain valid code.
    var all: [(name: String, code: String)] {
        get throws {
            let plain = try jws(claims())
            let kid = signer.kid
            var signature = Array(plain.split(separator: ".")[2])
            signature[10] = signature[10] == "A" ? "B" : "A"
            let categories = try CardCategory.allCases.map { ("category \($0.rawValue)", try jws(claims(["cat": "\"\($0.rawValue)\""]))) }
            return [
                ("plain", plain),
                ("printed credential, a year", try jws(claims(["exp": "\(now + 365 * 86_400)"]))),
                ("no status entry", try jws(claims(["status": nil]))),
                ("status null", try jws(claims(["status": "null"]))),
                ("another status list", try jws(claims(["status": entry(valid, uri: "https://elsewhere.example/api/v1/status-list")]))),
                ("revoked card", try jws(claims(["status": entry(revoked)]))),
                ("index past the list", try jws(claims(["status": entry("99999999")]))),
                ("negative index", try jws(claims(["status": entry("-1")]))),
                ("index as text", try jws(claims(["status": entry("\"\(valid)\"")]))),
                ("index written \(valid).0", try jws(claims(["status": entry(valid + ".0")]))),
                ("iat with a fraction", try jws(claims(["iat": "\(now).5"]))),
                ("iat with an exponent", try jws(claims(["iat": "\(now)e0"]))),
                ("iat as text", try jws(claims(["iat": "\"\(now)\""]))),
                ("unknown category", try jws(claims(["cat": #""nope""#]))),
                ("another issuer", try jws(claims(["iss": #""other""#]))),
                ("eleven years", try jws(claims(["exp": "\(now + 3654 * 86_400)"]))),
                ("nbf before iat beyond the leeway", try jws(claims(["nbf": "\(now - 31)"]))),
                ("expired", try jws(claims(["iat": "\(now - 400)", "nbf": "\(now - 400)", "exp": "\(now - 200)"]))),
                ("issued in the future", try jws(claims(["iat": "\(now + 120)", "nbf": "\(now + 120)", "exp": "\(now + 300)"]))),
                ("year 2300", try jws(claims(["exp": "10413792000"]))),
                ("name missing", try jws(claims(["name": nil]))),
                ("name escaped", try jws(claims(["name": #""\u5f20*\u4e09""#]))),
                ("extra claim", try jws(claims(["extra": #"[1,{"a":null}]"#]))),
                ("category twice, good last", try jws(category(#""cat":"nope","cat":"veteran""#))),
                ("category twice, good first", try jws(category(#""cat":"veteran","cat":"nope""#))),
                ("same category twice", try jws(category(#""cat":"veteran","cat":"veteran""#))),
                ("name a lone surrogate", try jws(claims(["name": #""\ud800*""#]))),
                ("name an escaped pair", try jws(claims(["name": #""\ud83d\ude00""#]))),
                ("__proto__ claim", try jws(claims(["__proto__": #"{"cat":"nope"}"#]))),
                ("arrays 510 deep", try jws(claims(["extra": nested(510)]))),
                ("arrays 511 deep", try jws(claims(["extra": nested(511)]))),
                ("arrays 512 deep", try jws(claims(["extra": nested(512)]))),
                ("kid twice", try jws(claims(), header: #"{"alg":"EdDSA","kid":"other","kid":"\#(kid)"}"#)),
                ("claims an array", try jws("[" + claims() + "]")),
                ("no typ", try jws(claims(), header: #"{"alg":"EdDSA","kid":"\#(kid)"}"#)),
                ("typ null", try jws(claims(), header: #"{"alg":"EdDSA","kid":"\#(kid)","typ":null}"#)),
                ("typ of a status list", try jws(claims(), header: #"{"alg":"EdDSA","kid":"\#(kid)","typ":"statuslist+jwt"}"#)),
                ("crit", try jws(claims(), header: #"{"alg":"EdDSA","crit":["exp"],"kid":"\#(kid)"}"#)),
                ("no kid", try jws(claims(), header: #"{"alg":"EdDSA"}"#)),
                ("kid a number", try jws(claims(), header: #"{"alg":"EdDSA","kid":7}"#)),
                ("alg none", try jws(claims(), header: #"{"alg":"none","kid":"\#(kid)"}"#)),
                ("extra header", try jws(claims(), header: #"{"alg":"EdDSA","kid":"\#(kid)","x5u":"https://x.example"}"#)),
                ("unknown key", try jws(claims(), key: stranger)),
                ("edited signature", plain.split(separator: ".")[0...1].joined(separator: ".") + "." + String(signature)),
                ("padded base64", plain + "="),
                ("two parts", plain.split(separator: ".")[0...1].joined(separator: ".")),
                ("too long", plain + String(repeating: "A", count: 2048)),
                ("9 digits", "123456789"), ("8 digits", "12345678"), ("11 digits", "12345678901"),
                ("digits with a newline", " 123456789\n"), ("code with a newline", " " + plain + "\n"),
                ("code after a no-break space", "\u{00A0}" + plain), ("empty", ""),
            ] + categories
        }
    }
}

extension AwkwardCodes {
    /// Variants of the shop snapshot `token`, re-signed with the server's key unless said otherwise: each rule of
    /// `ShopSnapshot.open` and `OfflineVerifier.freshness`, and a few forgeries.
    func snapshots(from token: String) throws -> [(name: String, token: String)] {
        func payload(_ token: String) throws -> Data {
            Data(try #require(Base64URL.decode(token.split(separator: ".", omittingEmptySubsequences: false)[1])))
        }
        let original = try JSONDecoder().decode(ShopSnapshot.self, from: try payload(token))
        let list = try JSONDecoder().decode(StatusListClaims.self, from: try payload(original.statusList))
        func signed(by key: SigningKey? = nil, _ change: (inout ShopSnapshot) throws -> Void) throws -> String {
            var snapshot = original
            try change(&snapshot)
            return try (key ?? signer).sign(snapshot, type: ShopSnapshot.type)
        }
        func statusList(by key: SigningKey? = nil, _ change: (inout StatusListClaims) -> Void) throws -> String {
            var claims = list
            change(&claims)
            return try (key ?? signer).sign(claims, type: StatusListClaims.type)
        }
        func synced(at iat: Int) -> (inout ShopSnapshot) -> Void {
            { snapshot in
                snapshot.iat = iat
                snapshot.exp = iat + snapshot.maxOfflineAge
            }
        }
        func expired(_ claims: inout StatusListClaims) {
            claims.iat = now - 10
            claims.exp = now - 1
        }
        func forged(_ snapshot: inout ShopSnapshot) throws {
            snapshot.jwks = JWKS(keys: [JWKS.Key(kid: stranger.kid, x: Base64URL.encode(stranger.publicKey.rawRepresentation))])
            snapshot.statusList = try statusList(by: stranger) { _ in }
        }
        var edited = Array(try signed { _ in })
        edited[edited.firstIndex(of: ".")! + 5] = edited[edited.firstIndex(of: ".")! + 5] == "A" ? "B" : "A"
        return [
            ("as synced, signed again", try signed { _ in }),
            ("exp a second past its age", try signed { $0.exp += 1 }),
            ("no offline age", try signed { $0.maxOfflineAge = 0 }),
            ("leeway over an hour", try signed { $0.clockLeeway = 3601 }),
            ("negative leeway", try signed { $0.clockLeeway = -1 }),
            ("another issuer", try signed { $0.iss = "other" }),
            ("shop suspended", try signed { $0.shop.status = "suspended" }),
            ("past its age", try signed(synced(at: now - 90_000))),
            ("synced in the device's future", try signed(synced(at: now + 100))),
            ("status list expired", try signed { $0.statusList = try statusList(expired) }),
            ("status list of 1 bit", try signed { $0.statusList = try statusList { $0.statusList.bits = 1 } }),
            ("status list from another issuer", try signed { $0.statusList = try statusList { $0.iss = "other" } }),
            ("status list issued after it expires", try signed { $0.statusList = try statusList { $0.iat = $0.exp + 1 } }),
            ("status list not zlib", try signed { $0.statusList = try statusList { $0.statusList.lst = "AAAA" } }),
            ("status list signed outside the set", try signed { $0.statusList = try statusList(by: stranger) { _ in } }),
            ("a bad key in the set", try signed { $0.jwks.keys.append(JWKS.Key(kid: "bad", x: "AAAA")) }),
            ("an empty key set", try signed { $0.jwks.keys = [] }),
            ("signed outside its set", try signed(by: stranger) { _ in }),
            ("a forger's own set", try signed(by: stranger, forged)),
            ("typ JWT", try signer.sign(original, type: "JWT")),
            ("edited after signing", String(edited)),
        ]
    }
}
