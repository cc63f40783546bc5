import Testing

@Suite("the test PostgreSQL server")
struct PostgresServerTests {
    @Test("it runs with fsync and synchronous_commit on, in C/UTF8, and gives each caller a database of its own")
    func freshDatabases() async throws {
        let server = try PostgresServer.running()
        async let first = server.createDatabase()
        async let second = server.createDatabase()
        let (one, two) = try await (first, second)
        #expect(one != two)
        #expect(one.hasPrefix("postgres://postgres@127.0.0.1:"))
        let settings = try server.psql(
            one,
            "SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('lc_collate'), getdatabaseencoding()"
        )
        #expect(settings == "on|on|C|UTF8")
        try server.psql(one, "CREATE TABLE t (x BIGINT)")
        #expect(try server.psql(two, "SELECT count(*) FROM pg_tables WHERE tablename = 't'") == "0")
    }
}
