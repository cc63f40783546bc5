import Testing
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

    @Test("postgresql:// works too; port 5432, TLS preferred and the user's database by default")
    func defaults() throws {
        let url = try PostgresURL("postgresql://yongjun@10.0.0.5")
        #expect(url.port == 5432)
        #expect(url.database == "yongjun")
        #expect(url.sslMode == .prefer)
        #expect(url.password == nil)
        #expect(try PostgresURL("postgres://u@[::1]:5433/d?sslmode=disable").host == "::1")
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
            ("postgres://u@h/d?sslmode=verify-full", "sslmode 'verify-full'"),
            ("postgres://u@h/d?timeout=3", "unknown parameter 'timeout'"),
            ("postgres://u@/d?host=relative", "absolute path"),
            ("postgres://u@/d?host=/s&sslmode=require", "unix socket"),
            ("postgres://u:secret%zz@h/d", "password holds a broken"),
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
