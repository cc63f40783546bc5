import Foundation
import Testing
import YongjunCore

@Suite("The audit head, key actions and the register's state, as processes", .timeLimit(.minutes(5)))
struct AuditHeadTests {
    /// Keys, a batch and three applications advanced once: six entries.
    func sixEntries() throws -> CLI {
        let cli = try CLI()
        #expect(try cli.run("keys", "init").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("a.csv", applicationsCSV(1...3))).status == 0)
        for id in 1...3 { #expect(try cli.run("applications", "advance", String(id)).status == 0) }
        return cli
    }

    @Test("cutting the last entries and then deleting, rewriting or forging audit.head fails audit verify")
    func cutTail() throws {
        let cli = try sixEntries()
        defer { cli.remove() }
        let intact = try cli.run("audit", "verify")
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.hasPrefix("audit log intact: 6 entries\nhead: sealed at entry 6\n"))
        print("intact:\n\(intact.stdout)")
        let lastKept = try tamper(cli, "SELECT hash FROM audit_log WHERE seq = 4").trimmingCharacters(in: .whitespacesAndNewlines)
        let cases: [(String, String?, String)] = [
            ("cut tail, head deleted", nil, "audit.head is missing"),
            ("cut tail, head rewritten as a bare count", "4\n", "audit.head is in the old unsealed format"),
            (
                "cut tail, head forged", "yongjun-audit-head/1 4 \(lastKept) AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
                "audit.head is forged or damaged"
            ),
            ("cut tail, head kept", "keep", "the log ends at entry 4 but 6 were written: entries were deleted from the end"),
        ]
        for (name, head, message) in cases {
            let copy = try copyOf(cli)
            defer { copy.remove() }
            try tamper(copy, "DELETE FROM audit_log WHERE seq > 4")
            let headPath = copy.dataDirectory + "/audit.head"
            if head != "keep" { try? FileManager.default.removeItem(atPath: headPath) }
            if let head, head != "keep" { try head.write(toFile: headPath, atomically: true, encoding: .utf8) }
            let verified = try copy.run("audit", "verify")
            #expect(verified.status == 1, "\(name)")
            #expect(verified.stderr.contains(message), "\(name): \(verified.stderr)")
            #expect(!verified.stdout.contains("intact"), "\(name)")
            print("\(name):\n\(verified.stderr)")
        }
    }

    @Test("a crash between commit and seal is named with its recovery, and audit reseal records itself and seals")
    func crashBetweenCommitAndSeal() throws {
        let cli = try sixEntries()
        defer { cli.remove() }
        let headPath = cli.dataDirectory + "/audit.head"
        let before = try Data(contentsOf: URL(fileURLWithPath: headPath))
        #expect(try cli.run("applications", "advance", "1").status == 0)
        try before.write(to: URL(fileURLWithPath: headPath))
        let verified = try cli.run("audit", "verify")
        #expect(verified.status == 1)
        #expect(verified.stderr.contains("entries 7–7 were committed after audit.head was last sealed"))
        #expect(verified.stderr.contains("yongjun audit list --limit 1") && verified.stderr.contains("yongjun audit reseal"))
        let resealed = try cli.run("audit", "reseal")
        #expect(resealed.status == 0, "\(resealed.stderr)")
        #expect(resealed.stdout.contains("audit.head sealed at entry 8 (it was: sealed at entry 6)"))
        #expect(try cli.run("audit", "verify").status == 0)
        #expect(try cli.run("audit", "list").stdout.contains("audit.reseal"))
        try tamper(cli, "UPDATE audit_log SET operator = 'x' WHERE seq = 2")
        let refused = try cli.run("audit", "reseal")
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the chain itself is broken at entry 2"))
    }

    @Test("keys init and rotate record the new key id in the same transaction; a failed commit leaves neither key file nor head behind")
    func keyActions() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let first = try cli.run("keys", "init").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = try cli.run("keys", "rotate").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let entries = try JSONSerialization.jsonObject(with: Data(try cli.run("audit", "list", "--json").stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.map { "\($0["action"] ?? "") \($0["subject"] ?? "")" } == ["keys.init \(first)", "keys.rotate \(second)"])
        #expect(try cli.run("audit", "verify").status == 0)

        // A deferred foreign key the commit itself rejects: the transaction fails after the entry was written.
        try tamper(
            cli,
            """
            CREATE TABLE trap (x INTEGER REFERENCES merchants(id) DEFERRABLE INITIALLY DEFERRED);
            CREATE TRIGGER trap_audit AFTER INSERT ON audit_log BEGIN INSERT INTO trap VALUES (999999); END;
            """
        )
        let headBefore = try String(contentsOfFile: cli.dataDirectory + "/audit.head", encoding: .utf8)
        #expect(try cli.run("keys", "rotate").status != 0)
        #expect(try cli.run("merchants", "add", "--name", "老兵汽修", "--industry", "vehicle_repair").status != 0)
        #expect(try String(contentsOfFile: cli.dataDirectory + "/audit.head", encoding: .utf8) == headBefore)
        let signing = try FileManager.default.contentsOfDirectory(atPath: cli.dataDirectory + "/keys/signing").sorted()
        #expect(signing == ["\(first).json", "\(second).json"].sorted(), "the failed rotation left a key file")
        try tamper(cli, "DROP TRIGGER trap_audit; DROP TABLE trap;")
        let verified = try cli.run("audit", "verify")
        #expect(verified.status == 0, "a failed commit must not read as deleted entries: \(verified.stderr)")

        // A key file written without its entry (a crash between the two, or someone with shell access).
        let keys = cli.dataDirectory + "/keys/signing/"
        try FileManager.default.copyItem(atPath: keys + "\(second).json", toPath: keys + "rogue-key.json")
        let rogue = try cli.run("audit", "verify")
        #expect(rogue.status == 1)
        #expect(rogue.stderr.contains("signing key rogue-key (keys/signing/rogue-key.json) has no keys.init or keys.rotate entry"))
        #expect(try cli.run("keys", "list").stderr.contains("signing key rogue-key has no audit entry"))
    }

    @Test("a revoked shop re-activated, a revoked card restored or an application moved by editing the database is named")
    func directStateEdits() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        #expect(try cli.run("merchants", "revoke", "1", "--reason", "冒用优待证").status == 0)
        #expect(try cli.run("cards", "revoke", "LZ0002", "--reason", "遗失").status == 0)
        #expect(try cli.run("batches", "open").status == 0)
        #expect(try cli.run("applications", "import", "--batch", "1", try cli.write("a.csv", applicationsCSV(1...2))).status == 0)
        let intact = try cli.run("audit", "verify")
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("state matches the log: 1 merchants, 2 cards, 2 applications"))
        let edits: [(String, String)] = [
            (
                "UPDATE merchants SET status = 'active' WHERE id = 1",
                "merchants id 1 field status is 'active', but the audit log gives 'revoked' (entry "
            ),
            (
                "UPDATE cards SET status = 'active' WHERE card_no = 'LZ0002'",
                "cards card_no LZ0002 field status is 'active', but the audit log gives 'revoked'"
            ),
            (
                "UPDATE applications SET stage = 'discussion' WHERE id = 2",
                "applications id 2 field stage is 'discussion', but the audit log gives 'materials'"
            ),
            (
                "INSERT INTO merchants (name, industry, status, created_at) VALUES ('影子商户', 'other', 'active', '2026-01-01')",
                "merchants id 2 field id is present, but the audit log gives no entry that created it"
            ),
        ]
        for (sql, message) in edits {
            let copy = try copyOf(cli)
            defer { copy.remove() }
            try tamper(copy, sql)
            let verified = try copy.run("audit", "verify")
            #expect(verified.status == 1, "\(sql)")
            #expect(verified.stderr.contains(message), "\(verified.stderr)")
            print("\(sql):\n\(verified.stderr)")
        }
    }
}
