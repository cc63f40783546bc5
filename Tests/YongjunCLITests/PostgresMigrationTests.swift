import Foundation
import Logging
import PostgresNIO
import Testing
import YongjunCore
import YongjunPostgres
import YongjunStorage

@Suite("PostgreSQL schema")
struct PostgresMigrationTests {
    let logger = Logger(label: "test")

    func withClient<T: Sendable>(_ url: String, _ body: (PostgresClient) async throws -> T) async throws -> T {
        try await PostgresClient.withRunning(try PostgresURL(url).configuration, logger: logger, body)
    }

    @Test("a fresh database gets every migration once; migrating again changes nothing")
    func migrateTwice() async throws {
        let url = try await PostgresServer.running().createDatabase()
        try await withClient(url) { client in
            let first = try await PostgresMigrator().migrate(client, logger: logger)
            #expect(first == PostgresMigrations.all.map(\.name))
            let second = try await PostgresMigrator().migrate(client, logger: logger)
            #expect(second.isEmpty)
        }
        let recorded = try PostgresServer.running().psql(url, "SELECT count(*), count(applied_at) FROM schema_migrations")
        #expect(recorded == "\(PostgresMigrations.all.count)|\(PostgresMigrations.all.count)")
    }

    @Test("two instances starting at once apply each migration exactly once between them")
    func concurrentStart() async throws {
        let url = try await PostgresServer.running().createDatabase()
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<2 {
                group.addTask { try await withClient(url) { try await PostgresMigrator().migrate($0, logger: logger) } }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == PostgresMigrations.all.map(\.name).sorted())
    }

    @Test("a database migrated by a newer version is refused, naming the unknown migration")
    func newerSchemaRefused() async throws {
        let url = try await PostgresServer.running().createDatabase()
        try await withClient(url) { client in
            try await PostgresMigrator().migrate(client, logger: logger)
            let newer = PostgresMigrator(PostgresMigrations.all + [PostgresMigration("2099-01-01 future", ["SELECT 1"])])
            try await newer.migrate(client, logger: logger)
            await #expect {
                try await PostgresMigrator().migrate(client, logger: logger)
            } throws: { error in
                "\(error)".contains("2099-01-01 future") && "\(error)".contains("upgrade yongjun")
            }
        }
    }

    @Test("the PostgreSQL schema has SQLite's tables, columns in order, NOT NULLs and named indexes")
    func sameSchemaAsSQLite() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("yongjun-pg-schema-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let directory = DataDirectory(path: folder)
        _ = try AppDatabase.open(in: directory)
        let export = try AppDatabase.openForExport(path: directory.databasePath)
        defer { export.close() }
        var sqlite: [String: [String]] = [:]
        for table in export.tables { sqlite[table.name] = table.columns.map { "\($0.name)\($0.notNull ? " NOT NULL" : "")" } }

        let url = try await PostgresServer.running().createDatabase()
        try await withClient(url) { try await PostgresMigrator().migrate($0, logger: logger) }
        let server = try PostgresServer.running()
        var postgres: [String: [String]] = [:]
        let columns = try server.psql(
            url,
            """
            SELECT table_name, column_name || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN ('schema_migrations', 'register_version')
            ORDER BY table_name, ordinal_position
            """
        )
        for line in columns.split(separator: "\n") {
            let parts = line.split(separator: "|", maxSplits: 1).map(String.init)
            postgres[parts[0], default: []].append(parts[1])
        }
        #expect(postgres.keys.sorted() == sqlite.keys.sorted())
        for name in sqlite.keys.sorted() {
            #expect(postgres[name] == sqlite[name], "table \(name)")
        }

        let sqliteIndexes = try PostgresServer.run(
            "/usr/bin/sqlite3",
            [directory.databasePath, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"]
        )
        let postgresIndexes = try server.psql(
            url,
            """
            SELECT indexname FROM pg_indexes i WHERE schemaname = 'public'
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY indexname
            """
        )
        #expect(postgresIndexes == sqliteIndexes)
    }

    @Test("unique indexes and foreign keys keep 'used once here', 'one offline record per nonce' and known shops in PostgreSQL too")
    func uniqueIndexesHold() async throws {
        let url = try await PostgresServer.running().createDatabase()
        try await withClient(url) { try await PostgresMigrator().migrate($0, logger: logger) }
        let server = try PostgresServer.running()
        try server.psql(url, "INSERT INTO merchants (name, industry, created_at) VALUES ('店', 'other', 'now')")
        func insert(_ id: String, useKey: String?, nonce: String, offline: Int) throws {
            try server.psql(
                url,
                """
                INSERT INTO verifications (id, merchant_id, valid, nonce, created_at, response, use_key, offline)
                VALUES ('\(id)', 1, 1, '\(nonce)', 'now', '{}', \(useKey.map { "'\($0)'" } ?? "NULL"), \(offline))
                """
            )
        }
        try insert("v1", useKey: "code-1", nonce: "n1", offline: 0)
        #expect(throws: (any Error).self) { try insert("v2", useKey: "code-1", nonce: "n2", offline: 0) }
        try insert("v3", useKey: nil, nonce: "n1", offline: 0)
        try insert("v4", useKey: nil, nonce: "n1", offline: 1)
        #expect(throws: (any Error).self) { try insert("v5", useKey: nil, nonce: "n1", offline: 1) }
        #expect(throws: (any Error).self) {
            try server.psql(url, "INSERT INTO verifications (id, merchant_id, valid, created_at, response) VALUES ('v6', 2, 0, 'now', '{}')")
        }
    }
}
