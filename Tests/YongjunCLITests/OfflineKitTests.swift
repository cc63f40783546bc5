import Foundation
import Testing
import YongjunCore
import YongjunStorage

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The offline kit against the real server: sync, verify without the server, upload, and what the bureau sees.
@Suite("Offline verification with the real server and the shop kit")
struct OfflineKitTests {
    /// `shop verify --json` as parsed JSON, with the exit status.
    func offlineVerify(_ cli: CLI, _ code: String, kit: String) throws -> (status: Int32, answer: [String: Any]) {
        let run = try cli.run("shop", "verify", code, "--dir", kit, "--json")
        let answer = (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any] ?? [:]
        return (run.status, answer)
    }

    @Test("a revocation reaches the offline verdict after one sync; single use, 9-digit numbers, tampering and a suspended shop")
    func syncVerifyRevoke() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--status-list-ttl", "1"])
        let kit = cli.workDirectory + "/kit"
        let base = server.baseURL.absoluteString
        let sync = try cli.run("shop", "sync", "--server", base, "--key", key, "--dir", kit)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains("老兵汽修"))
        for file in ["snapshot.jwt", "kit.json"] {
            let mode = try FileManager.default.attributesOfItem(atPath: kit + "/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) is readable by others")
        }

        // Codes signed by the CLI after the server announced its status list carry the card's entry.
        let code1 = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let code2 = try cli.run("cards", "code", "LZ0002").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let payload = try #require(Base64URL.decode(code1.split(separator: ".")[1]))
        let claims = try JSONDecoder().decode(CodeClaims.self, from: Data(payload))
        #expect(claims.status?.statusList.uri == base + "/api/v1/status-list")

        let first = try offlineVerify(cli, code1, kit: kit)
        #expect(first.status == 0)
        #expect(first.answer["valid"] as? Bool == true)
        #expect(first.answer["offline"] as? Bool == true)
        #expect(first.answer["categoryLabel"] as? String == "退役军人")
        #expect(first.answer["holder"] as? String == "张*三")
        let again = try offlineVerify(cli, code1, kit: kit)
        #expect(again.status == 1)
        #expect(again.answer["reason"] as? String == "already_used_here")
        let digits = try offlineVerify(cli, "123456789", kit: kit)
        #expect(digits.answer["reason"] as? String == "offline_unsupported")
        #expect((digits.answer["message"] as? String)?.contains("二维码") == true)

        // Revoked at the bureau: the device does not know until it syncs; after one sync it refuses.
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try cli.run("shop", "sync", "--server", base, "--key", key, "--dir", kit).status == 0)
        let revoked = try offlineVerify(cli, code2, kit: kit)
        #expect(revoked.answer["reason"] as? String == "card_revoked")
        #expect(revoked.answer["message"] as? String == "证件已注销，不能享受优待")

        // An edited snapshot (one status bit flipped by hand, say) no longer checks out.
        let snapshotPath = kit + "/snapshot.jwt"
        let original = try String(contentsOfFile: snapshotPath, encoding: .utf8)
        var parts = original.split(separator: ".").map(String.init)
        var body = try #require(Base64URL.decode(parts[1]))
        body[body.count / 2] ^= 0x01
        parts[1] = Base64URL.encode(body)
        try parts.joined(separator: ".").write(toFile: snapshotPath, atomically: true, encoding: .utf8)
        let tampered = try offlineVerify(cli, try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines), kit: kit)
        #expect(tampered.answer["valid"] as? Bool == false)
        #expect(tampered.answer["reason"] as? String == "sync_required")
        #expect((tampered.answer["message"] as? String)?.contains("改动") == true)

        // A suspended shop cannot sync, and its device stops verifying offline.
        #expect(try cli.run("merchants", "suspend", "1", "--reason", "整改").status == 0)
        let refused = try cli.run("shop", "sync", "--server", base, "--key", key, "--dir", kit)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("merchant_suspended"))
        #expect(!FileManager.default.fileExists(atPath: snapshotPath))
        let after = try offlineVerify(cli, try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines), kit: kit)
        #expect(after.answer["reason"] as? String == "sync_required")
        #expect((after.answer["message"] as? String)?.contains("yongjun shop sync") == true, "a device without a snapshot is told to sync")
    }

    @Test("offline, the shop's rules from the snapshot give the right benefit, and a once-a-day benefit once per device")
    func offlineBenefits() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        #expect(
            try cli.run("merchants", "benefits", "1", "--set", try cli.write("r.csv", "categories,benefit,once_per_day\nveteran,凭优待证享9折,yes\n"))
                .status == 0
        )
        let server = try ServerProcess(cli: cli)
        let kit = cli.workDirectory + "/kit"
        #expect(try cli.run("shop", "sync", "--server", server.baseURL.absoluteString, "--key", key, "--dir", kit).status == 0)
        func code(_ card: String) throws -> String { try cli.run("cards", "code", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
        let first = try offlineVerify(cli, try code("LZ0001"), kit: kit).answer
        #expect(first["eligible"] as? Bool == true && first["benefit"] as? String == "凭优待证享9折", "\(first)")
        let second = try offlineVerify(cli, try code("LZ0001"), kit: kit).answer
        #expect(second["valid"] as? Bool == true && second["eligible"] as? Bool == false, "\(second)")
        #expect(second["reason"] as? String == "not_eligible_here")
        let family = try offlineVerify(cli, try code("LZ0002"), kit: kit).answer
        #expect(family["valid"] as? Bool == true && family["eligible"] as? Bool == false && family["benefit"] == nil)
        let plain = try cli.run("shop", "verify", try code("LZ0002"), "--dir", kit)
        #expect(plain.stdout.contains("本店优惠不适用"))
    }

    @Test("offline records upload exactly once; a code also used online and a card revoked before are flagged for the bureau")
    func uploadOnceAndConflicts() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--status-list-ttl", "1"])
        let kit = cli.workDirectory + "/kit"
        let base = server.baseURL.absoluteString
        #expect(try cli.run("shop", "sync", "--server", base, "--key", key, "--dir", kit).status == 0)
        let plain = try cli.run("cards", "code", "LZ0001", "--lifetime", "600").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let usedOnline = try cli.run("cards", "code", "LZ0001", "--lifetime", "600").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let revokedLater = try cli.run("cards", "code", "LZ0002", "--lifetime", "600").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Used at the counter online first; the device, offline, cannot know.
        #expect(try await server.client.verify(usedOnline, key: key).json["valid"] as? Bool == true)
        // Revoked at the bureau; the device's snapshot is older.
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "证件遗失").status == 0)
        for code in [plain, usedOnline, revokedLater] { #expect(try offlineVerify(cli, code, kit: kit).status == 0) }

        let upload = try cli.run("shop", "upload", "--dir", kit)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.stdout.contains("3 accepted, 0 already there, 0 rejected, 2 flagged"), "\(upload.stdout)")
        #expect(upload.stdout.contains("flagged already_used_here"))
        #expect(upload.stdout.contains("flagged card_revoked"))
        #expect(try cli.run("shop", "upload", "--dir", kit).stdout.contains("nothing to upload"))

        // The same records sent again by a device that lost its answer: taken once.
        let records = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: kit + "/records.json"))) as? [[String: Any]] ?? []
        let resent = records.map { ["code": $0["code"]!, "nonce": $0["nonce"]!, "verifiedAt": $0["verifiedAt"]!, "result": $0["result"]!] }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["records": resent]), as: UTF8.self)
        let reply = try await server.client.send(
            "POST",
            "/api/v1/verifications/offline",
            headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json"],
            body: body
        )
        #expect(reply.status == 200)
        #expect(reply.json["duplicates"] as? Int == 3)
        #expect(reply.json["accepted"] as? Int == 0)
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 1") == "3")

        let conflicts = try cli.run("reports", "offline-conflicts", "--json")
        let rows = (try? JSONSerialization.jsonObject(with: Data(conflicts.stdout.utf8))) as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["conflict"] as? String }) == ["already_used_here", "card_revoked"])
        #expect(rows.allSatisfy { $0["deviceResult"] as? String == "valid" })
        let today = CalendarDate(chinaDayOf: Date()).description
        let report = try cli.run("reports", "verifications", "--from", today, "--to", today)
        #expect(report.stdout.contains("3 made offline, 2 flagged"), "\(report.stdout)")

        // The online path now sees the offline use: the same code is already used here.
        #expect(try await server.client.verify(plain, key: key).reason == "already_used_here")
    }

    @Test("the status list: public, signed, at least 131,072 entries, conditional GET; docs/verify_offline.py agrees with the kit")
    func statusListAndOutsideVerifier() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli, extraArguments: ["--status-list-ttl", "1"])
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "test").status == 0)
        try await Task.sleep(for: .milliseconds(1100))
        let reply = try await server.client.send("GET", "/api/v1/status-list")
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "application/statuslist+jwt")
        #expect(reply.headers["cache-control"] == "public, max-age=1")
        let etag = try #require(reply.headers["etag"])
        let notModified = try await server.client.send("GET", "/api/v1/status-list", headers: ["If-None-Match": etag])
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)

        let jwks = try await server.client.send("GET", "/.well-known/jwks.json")
        let keys = try #require(TrustedKeys(jwks: JSONDecoder().decode(JWKS.self, from: Data(jwks.body.utf8))))
        let (claims, list) = try StatusListClaims.open(reply.body, keys: keys, issuer: "yongjun").get()
        #expect(claims.sub == server.baseURL.absoluteString + "/api/v1/status-list")
        #expect(claims.ttl == 1)
        #expect(list.count >= 131_072)
        let idx2 = Int(try cli.sqlite("SELECT status_idx FROM cards WHERE card_no = 'LZ0002'"))!
        let idx1 = Int(try cli.sqlite("SELECT status_idx FROM cards WHERE card_no = 'LZ0001'"))!
        #expect(list[idx2] == .revoked)
        #expect(list[idx1] == .valid)

        let kit = cli.workDirectory + "/kit"
        #expect(try cli.run("shop", "sync", "--server", server.baseURL.absoluteString, "--key", key, "--dir", kit).status == 0)
        let code1 = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func outside(_ code: String, now: Int? = nil) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["python3", CLI.packageRoot.path + "/docs/verify_offline.py", kit + "/snapshot.jwt", code] + (now.map { [String($0)] } ?? [])
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        #expect(try outside(code1).contains(#""valid": true"#))
        // A card revoked before the sync: the outside verifier reads the same entry. (The CLI cannot sign a code for
        // a revoked card, so the code is forged with a real key and the revoked card's entry.)
        let forged = try signedCode(cli: cli, cardNo: "LZ0002", statusURI: claims.sub)
        #expect(try outside(forged).contains(#""reason": "card_revoked""#))
        #expect(try offlineVerify(cli, forged, kit: kit).answer["reason"] as? String == "card_revoked")
        let nextWeek = Int(Date().timeIntervalSince1970) + 7 * 86_400
        #expect(try outside(code1, now: nextWeek).contains("sync_required"))
    }

    /// A code for `cardNo` signed with the data directory's current key, as the server would, with the card's entry.
    func signedCode(cli: CLI, cardNo: String, statusURI: String) throws -> String {
        let id = try cli.sqlite("SELECT id FROM cards WHERE card_no = '\(cardNo)'")
        let idx = Int(try cli.sqlite("SELECT status_idx FROM cards WHERE card_no = '\(cardNo)'"))!
        let ring = try KeyStore(directory: DataDirectory(path: cli.dataDirectory)).loadKeyRing()
        let now = Int(Date().timeIntervalSince1970)
        let claims = CodeClaims(
            iss: "yongjun",
            sub: id,
            jti: "FORGEDFORTEST0001",
            iat: now,
            nbf: now,
            exp: now + 180,
            cat: "military_family",
            name: "李*",
            status: StatusClaim(idx: idx, uri: statusURI)
        )
        return try CodeIssuer(key: ring.current!, issuer: "yongjun").sign(claims)
    }
}
