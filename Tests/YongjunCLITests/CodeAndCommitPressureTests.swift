import Foundation
import Testing
import YongjunCore
import YongjunStorage

/// Codes signed with the real key but with hostile times, a commit that fails, and a hostile import file.
@Suite("Hostile codes, failing commits and huge input, against the real binary", .timeLimit(.minutes(5)))
struct CodeAndCommitPressureTests {
    @Test("codes signed with the real key but with absurd or inconsistent times are typed rejections and the server lives on")
    func hostileClaims() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let signingKey = try #require(try KeyStore(directory: DataDirectory(path: cli.dataDirectory)).loadKeyRing().current)
        let cardID = try cli.sqlite("SELECT id FROM cards WHERE card_no = 'LZ0001'")
        let now = Int(Date().timeIntervalSince1970)
        func code(iat: Int, nbf: Int, exp: Int) throws -> String {
            try CodeIssuer(key: signingKey, issuer: "yongjun").sign(
                CodeClaims(iss: "yongjun", sub: cardID, jti: UUID().uuidString, iat: iat, nbf: nbf, exp: exp, cat: "veteran", name: "张*三")
            )
        }
        let cases: [(String, Int, Int, Int, String)] = [
            ("exp = 2^63-1", now, now, Int.max, "malformed"),
            ("nbf and iat = -2^63", Int.min, Int.min, now + 60, "malformed"),
            ("iat a million seconds ahead", now + 1_000_000, now + 1_000_000, now + 1_000_180, "not_yet_valid"),
            ("lifetime beyond any code we issue", now, now, now + 20 * 365 * 86_400, "malformed"),
            ("nbf after exp", now, now + 100, now + 50, "malformed"),
            ("nbf long before iat", now, now - 3600, now + 180, "malformed"),
            ("before the year 2000", 900_000_000, 900_000_000, 900_000_180, "malformed"),
        ]
        for (name, iat, nbf, exp, reason) in cases {
            let answer = try await server.client.verify(try code(iat: iat, nbf: nbf, exp: exp), key: key)
            #expect(answer.status == 200, "\(name)")
            #expect(answer.reason == reason, "\(name): \(answer.body)")
        }
        #expect(try await server.client.verify(try code(iat: now, nbf: now, exp: now + 180), key: key).json["valid"] as? Bool == true)
        #expect(server.process.isRunning)
    }

    @Test("a commit that fails answers 503 and keeps nothing; the retry with the same nonce is decided afresh, then replayed")
    func injectedCommitFailure() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // A deferred foreign key fails at COMMIT, after every decision in the group was made.
        _ = try cli.sqlite(
            """
            CREATE TABLE fault (card TEXT REFERENCES cards(id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER fault AFTER INSERT ON verifications WHEN NEW.nonce LIKE 'boom%' BEGIN INSERT INTO fault VALUES ('nothing'); END;
            """
        )
        let failed = try await server.client.verify(code, key: key, nonce: "boom-1")
        #expect(failed.status == 503)
        #expect(failed.error == "unavailable")
        #expect(failed.headers["retry-after"] == "1", "the till is told when to retry")
        #expect(try cli.sqlite("SELECT COUNT(*) FROM verifications") == "0")
        _ = try cli.sqlite("DROP TRIGGER fault; DROP TABLE fault;")
        let retried = try await server.client.verify(code, key: key, nonce: "boom-1")
        #expect(retried.status == 200)
        #expect(retried.json["valid"] as? Bool == true, "decided afresh, not replayed from the rolled-back group: \(retried.body)")
        let again = try await server.client.verify(code, key: key, nonce: "boom-1")
        #expect(again.json["verificationId"] as? String == retried.json["verificationId"] as? String)
        #expect(try cli.sqlite("SELECT COUNT(*) FROM verifications WHERE nonce = 'boom-1'") == "1")
    }

    @Test("an import with a 10 MB field is refused at once with the line number, and a field padded with spaces still imports")
    func hugeFields() throws {
        let cli = try CLI()
        defer { cli.remove() }
        #expect(try cli.run("keys", "init").status == 0)
        let huge = "card_no,name,id_number,category,valid_until\nLZ1,\(String(repeating: "张", count: 10_000_000)),x,veteran,2099-12-31\n"
        let refused = try cli.run("cards", "import", try cli.write("huge.csv", huge))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("longer than 4096"), "\(refused.stderr.prefix(300))")
        let padded =
            "card_no,name,id_number,category,valid_until\nLZ1,张三\(String(repeating: " ", count: 1000)),\(CLI.idNumber("44188219650312123")),veteran,2099-12-31\n"
        #expect(try cli.run("cards", "import", try cli.write("padded.csv", padded)).status == 0)
        #expect(try cli.sqlite("SELECT name FROM cards WHERE card_no = 'LZ1'") == "张三")
    }
}
