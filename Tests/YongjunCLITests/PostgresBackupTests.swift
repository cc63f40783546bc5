import Testing

@Suite("backup and restore with the register in PostgreSQL")
struct PostgresBackupTests {
    @Test(
        "backup and restore refuse, naming pg_dump -Fc and pg_restore and the keys/ folder, never the password",
        arguments: [["backup", "copy.sqlite"], ["restore", "copy.sqlite"], ["restore", "--check-only", "copy.sqlite"]]
    )
    func refusesWithTheTools(arguments: [String]) throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try cli.run(arguments, environment: ["YONGJUN_DATABASE": "postgres://yongjun:hunter2@db.internal/yongjun"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("pg_dump -Fc"))
        #expect(result.stderr.contains("pg_restore"))
        #expect(result.stderr.contains("keys/ folder"))
        #expect(result.stderr.contains("cp -a \(cli.dataDirectory)/keys "))
        #expect(result.stderr.contains("postgres://yongjun:********@db.internal:5432/yongjun"))
        #expect(!result.stderr.contains("hunter2"))
    }
}
