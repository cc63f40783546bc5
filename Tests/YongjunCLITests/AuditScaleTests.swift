import Foundation
import Testing
import YongjunCore

@Suite("audit verify at the bureau's scale, as a process", .timeLimit(.minutes(5)))
struct AuditScaleTests {
    @Test("audit verify reads, checks and replays 10^5 chained entries; the time is printed")
    func hundredThousandEntries() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let total: Int64 = 100_000
        let keyText = try String(contentsOfFile: cli.dataDirectory + "/keys/audit.key", encoding: .utf8)
        let chain = AuditChain(keyBytes: try #require(Base64URL.decode(keyText.trimmingCharacters(in: .whitespacesAndNewlines))))
        let existing = Int64(try tamper(cli, "SELECT COUNT(*) FROM audit_log").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        var previous = try tamper(cli, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").trimmingCharacters(in: .whitespacesAndNewlines)
        var sql = "BEGIN;\n"
        // Shop 1 suspended and reinstated over and over, with card imports between: state the replay must follow.
        for seq in (existing + 1)...total {
            let (action, subject, details) =
                switch seq % 3 {
                case 2: ("merchants.suspend", "merchant 1", #"{"reason":"门店装修"}"#)
                case 0: ("merchants.reinstate", "merchant 1", "{}")
                default: ("cards.import", "cards.csv", #"{"file":"cards.csv","inserted":"0","unchanged":"2","updated":"0"}"#)
                }
            let at = "2026-11-29T08:00:00Z"
            let hash = chain.hash(seq: seq, at: at, operatorName: "李科员", action: action, subject: subject, details: details, previousHash: previous)
            sql += "INSERT INTO audit_log VALUES (\(seq), '\(at)', '李科员', '\(action)', '\(subject)', '\(details)', '\(previous)', '\(hash)');\n"
            previous = hash
        }
        sql += "COMMIT;\n"
        let script = try cli.write("entries.sql", sql)
        try tamper(cli, ".read \(script)")
        try chain.sealText(AuditHead(count: total, lastHash: previous)).write(
            toFile: cli.dataDirectory + "/audit.head",
            atomically: true,
            encoding: .utf8
        )
        let started = Date()
        let verified = try cli.run("audit", "verify")
        let seconds = Date().timeIntervalSince(started)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("audit log intact: 100000 entries\nhead: sealed at entry 100000\n"))
        // CPU time as well as wall time: on a shared machine the wall clock mostly measures the other jobs.
        let timed = try runTool(
            ["bash", "-c", "TIMEFORMAT='%U %S'; time \"$0\" --data-dir \"$1\" audit verify > /dev/null", CLI.binary, cli.dataDirectory]
        )
        let cpu = timed.output.split(whereSeparator: \.isWhitespace).suffix(2).compactMap { Double($0) }.reduce(0, +)
        print(String(format: "audit verify, 10^5 entries: %.2f s wall, %.2f s CPU (user + sys)", seconds, cpu))
        #expect(cpu > 0 && cpu < 10, "far beyond the 2 s goal even for a debug build: \(timed.output)")
    }
}
