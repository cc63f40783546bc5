import Foundation
import Testing

@Suite("Backups made safely and restored only after every check, as processes", .timeLimit(.minutes(5)))
struct BackupSafetyTests {
    @Test("restore refuses a backup whose audit row or state was edited, or whose keys are missing; --check-only lists every check")
    func restoreChecks() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let good = cli.workDirectory + "/good.sqlite"
        let made = try cli.run("backup", good)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("audit entries sealed"))
        let checked = try cli.run("restore", good, "--check-only")
        #expect(checked.status == 0, "\(checked.stderr)")
        for line in [
            "ok      integrity ok", "ok      migrations known", "ok      audit log intact: 4 entries, sealed", "ok      state matches",
            "ok      keys match",
        ] {
            #expect(checked.stdout.contains(line), "\(checked.stdout)")
        }

        let edits: [(String, String, String)] = [
            ("audit.sqlite", "UPDATE audit_log SET operator = 'someone else' WHERE seq = 2", "audit log broken at entry 2: entry 2 was changed"),
            ("cut.sqlite", "DELETE FROM audit_log WHERE seq = 4", "the log ends at entry 3 but 4 were written"),
            ("state.sqlite", "UPDATE merchants SET status = 'revoked' WHERE id = 1", "merchants id 1 field status is 'revoked'"),
            (
                "old.sqlite", "DROP TABLE backup_seal; DELETE FROM grdb_migrations WHERE identifier LIKE 'v5 %'",
                "seal missing: this backup was made before Yongjun sealed its backups"
            ),
        ]
        for (name, sql, message) in edits {
            let path = cli.workDirectory + "/" + name
            try FileManager.default.copyItem(atPath: good, toPath: path)
            try tamper(cli, sql, database: path)
            let report = try cli.run("restore", path, "--check-only")
            #expect(report.status == 1, "\(name)")
            let failed = report.stdout.split(separator: "\n").filter { $0.hasPrefix("FAILED  ") }
            #expect(failed.count == 1 && failed[0].contains(message), "\(name): \(report.stdout)")
            let refused = try cli.run("restore", path)
            #expect(refused.status == 1, "\(name)")
            #expect(refused.stderr.contains(message) && refused.stderr.contains("nothing was restored"), "\(refused.stderr)")
        }
        let old = try cli.run("restore", cli.workDirectory + "/old.sqlite", "--allow-unsealed")
        #expect(old.status == 0, "an old backup is accepted when the bureau says so: \(old.stderr)")
        #expect(try cli.run("audit", "verify").status == 0)

        // A backup from another data folder: other audit key, other signing keys.
        let stranger = try CLI()
        defer { stranger.remove() }
        #expect(try stranger.run("restore", good, "--check-only").stderr.contains("restore keys/ from the key backup made with this database first"))
        #expect(try stranger.run("keys", "init").status == 0)
        let foreign = try stranger.run("restore", good, "--check-only")
        #expect(foreign.status == 1)
        #expect(foreign.stdout.contains("or the backup belongs to a different keys/audit.key"), "\(foreign.stdout)")
        #expect(foreign.stdout.contains("FAILED  keys missing from keys/signing"), "\(foreign.stdout)")

        let restored = try cli.run("restore", good)
        #expect(restored.status == 0, "\(restored.stderr)")
        let verified = try cli.run("audit", "verify")
        #expect(verified.status == 0, "the head is resealed at the restored log: \(verified.stderr)")
        #expect(verified.stdout.contains("audit log intact: 5 entries"))
    }

    @Test("backup under umask 022 is 0600, leaves no temporary file, and refuses a dangling symlink or an existing file")
    func backupFiles() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let folder = cli.workDirectory + "/backups"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/b.sqlite"
        let made = try runTool(["sh", "-c", "umask 022; exec \"$0\" --data-dir \"$1\" backup \"$2\"", CLI.binary, cli.dataDirectory, path])
        #expect(made.status == 0, "\(made.output)")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["b.sqlite"], "no journal or temporary file is left")

        let target = folder + "/elsewhere.sqlite"
        let link = folder + "/link.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let refused = try cli.run("backup", link)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("is a symbolic link"))
        #expect(!FileManager.default.fileExists(atPath: target), "the symlink was followed")
        let existing = try cli.run("backup", path)
        #expect(existing.status == 1)
        #expect(existing.stderr.contains("already exists"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["b.sqlite", "link.sqlite"])
    }
}
