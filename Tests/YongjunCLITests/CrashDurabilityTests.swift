import Foundation
import Testing

@Suite("Crash durability, the binary killed with SIGKILL under load", .timeLimit(.minutes(5)))
struct CrashDurabilityTests {
    @Test("every verification acknowledged before kill -9 is on record after the restart, three rounds running")
    func acknowledgedVerificationsSurviveKill9() throws {
        let script = CLI.packageRoot.appendingPathComponent("bench/crash").path
        let run = try runTool(["python3", script, "--rounds", "3", "--binary", CLI.binary, "--clients", "8", "--cards", "100", "--merchants", "2"])
        #expect(run.status == 0, "\(run.output)")
        let total = run.output.split(separator: "\n").first { $0.hasPrefix("total:") } ?? ""
        #expect(total.contains("missing 0;"), "\(run.output)")
        #expect(!total.contains("acknowledged 0,"), "\(run.output)")
    }
}
