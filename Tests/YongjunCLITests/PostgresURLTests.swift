import Testing
import YongjunCore
import YongjunPostgres

@Suite("PostgreSQL URLs")
struct PostgresURLTests {
    @Test("a full URL gives user, password, host, port, database and TLS mode")
    func fullURL() throws {
        let url = try PostgresURL("postgres://yongjun:s%40cret@db.example.cn:6543/register?sslmode=require")
        #expect(url.user == "yongjun")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.example.cn")
        #expect(url.port == 6543)
        #expect(url.database == "register")
        #expect(url.sslMode == .require)
        let configuration = url.configuration
        #expect(configuration.host == "db.example.cn")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "yongjun")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "register")
    }

    @Test("postgresql:// works too; port 5432 and TLS preferred by default; libpq's verify-full and password= are understood")
    func defaults() throws {
        let url = try PostgresURL("postgresql://yongjun@10.0.0.5/register")
        #expect(url.port == 5432)
        #expect(url.database == "register")
        #expect(url.sslMode == .prefer)
        #expect(url.password == nil)
        #expect(try PostgresURL("postgres://u@[::1]:5433/d?sslmode=disable").host == "::1")
        // The address deploy/OPERATIONS.md suggests: TLS required, certificate and host name checked (as `require`).
        let strict = try PostgresURL("postgres://yongjun:pw@db.example:5432/yongjun?sslmode=verify-full")
        #expect(strict.sslMode == .verifyFull && strict.sslMode.requiresTLS && strict.redacted.hasSuffix("?sslmode=verify-full"))
        let fromQuery = try PostgresURL("postgres://yongjun@db/yongjun?password=s%26cret")
        #expect(fromQuery.password == "s&cret" && fromQuery.redacted == "postgres://yongjun:********@db:5432/yongjun")
    }

    @Test("?host=/dir connects through the unix socket in that folder")
    func unixSocket() throws {
        let url = try PostgresURL("postgres://postgres@/yongjun?host=/var/run/postgresql")
        #expect(url.host == nil)
        #expect(url.socketDirectory == "/var/run/postgresql")
        #expect(url.configuration.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(try PostgresURL("postgres://postgres@localhost:5444/x?host=/tmp/pg").configuration.unixSocketPath == "/tmp/pg/.s.PGSQL.5444")
    }

    @Test("the redacted form and the description never show the password")
    func redacted() throws {
        let url = try PostgresURL("postgres://yongjun:hunter2@db:5432/register")
        #expect(url.redacted == "postgres://yongjun:********@db:5432/register")
        #expect(!"\(url)".contains("hunter2"))
        #expect(try PostgresURL("postgres://a@/b?host=/s&sslmode=disable").redacted == "postgres://a@:5432/b?host=/s&sslmode=disable")
    }

    @Test(
        "a wrong URL is refused with the part that is wrong, never quoting the password",
        arguments: [
            ("mysql://u@h/d", "postgres://"),
            ("postgres://h/d", "no user name"),
            ("postgres://u:pw@/d", "no host"),
            ("postgres://u@h:99999/d", "port '99999'"),
            ("postgres://u@h:54x/d", "port '54x'"),
            ("postgres://u@h/d?sslmode=verify-ca", "sslmode 'verify-ca'"),
            ("postgres://u@h", "must name the database"),
            ("postgres://u@h:5432/", "must name the database"),
            ("postgres://u@h/d?timeout=3", "unknown parameter 'timeout'"),
            ("postgres://u@/d?host=relative", "absolute path"),
            ("postgres://u@/d?host=/s&sslmode=require", "unix socket"),
            ("postgres://u:secret%zz@h/d", "broken %-escape in the password"),
            ("postgres://u@/d?host=/s&sslmode=verify-full", "unix socket"),
        ]
    )
    func refused(text: String, expected: String) {
        #expect {
            try PostgresURL(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains(expected) && message.contains("expected postgres://") && !message.contains("secret")
        }
    }
}
