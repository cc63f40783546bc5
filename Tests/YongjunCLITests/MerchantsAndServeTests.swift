import Foundation
import Testing

@Suite("yongjun merchants and serve, run as processes", .timeLimit(.minutes(5)))
struct MerchantsAndServeTests {
    @Test("merchants add prints an id, merchants key prints a key once; bad input exits non-zero with the fix")
    func merchants() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let uninitialized = try cli.run("merchants", "add", "--name", "拥军饭店", "--industry", "餐饮")
        #expect(uninitialized.status == 1)
        #expect(uninitialized.stderr.contains("run `yongjun keys init` first"))
        #expect(try cli.run("keys", "init").status == 0)
        let added = try cli.run("merchants", "add", "--name", "拥军饭店", "--industry", "餐饮", "--benefit", "凭优待证享9折")
        #expect(added.status == 0)
        #expect(added.stdout == "1\n")
        let key = try cli.run("merchants", "key", "1").stdout
        #expect(key.hasPrefix("yjk_"))
        let database = try String(contentsOfFile: cli.dataDirectory + "/yongjun.sqlite", encoding: .isoLatin1)
        #expect(!database.contains(key.trimmingCharacters(in: .whitespacesAndNewlines)))
        let badIndustry = try cli.run("merchants", "add", "--name", "x", "--industry", "bank")
        #expect(badIndustry.status == 64)
        #expect(badIndustry.stderr.contains("vehicle_repair (车辆维修)"))
        #expect(try cli.run("audit", "list").stdout.contains("merchants.add"))
        let unknown = try cli.run("merchants", "key", "42")
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no merchant with id 42"))
    }

    @Test("serve refuses to start without keys, or with a key file others can read")
    func serveRefusesUnsafeKeys() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let noKeys = try cli.run("serve", "--port", "0")
        #expect(noKeys.status == 1)
        #expect(noKeys.stderr.contains("run `yongjun keys init`"))
        let kid = try cli.run("keys", "init").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = cli.dataDirectory + "/keys/signing/\(kid).json"
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let exposed = try cli.run("serve", "--port", "0")
        #expect(exposed.status == 1)
        #expect(exposed.stderr.contains("chmod 600 \(file)"))
    }

    @Test("a code printed by the CLI verifies at the running server, and a revocation by the CLI is seen at once")
    func endToEnd() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let answer = try await server.verify(code, key: key)
        #expect(answer["valid"] as? Bool == true)
        #expect(answer["holder"] as? String == "张*三")
        #expect(answer["categoryLabel"] as? String == "退役军人")
        let second = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try cli.run("cards", "revoke", "LZ0001", "--reason", "证件遗失").status == 0)
        #expect(try await server.verify(second, key: key)["reason"] as? String == "card_revoked")
        #expect(server.stop() == 0)
        #expect(!server.log.contains(code))
        #expect(!server.log.contains(key))
    }

    @Test("PyJWT, holding only the published JWKS, verifies our code unchanged and rejects an edited one")
    func thirdPartyVerifier() throws {
        let cli = try CLI()
        defer { cli.remove() }
        _ = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let code = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let jwks = server.baseURL.appendingPathComponent(".well-known/jwks.json").absoluteString
        let script = CLI.packageRoot.appendingPathComponent("Tests/tools/verify_with_pyjwt.py").path
        let accepted = try runPython(script, jwks, code)
        #expect(accepted.status == 0, "\(accepted.output)")
        let verified = try JSONSerialization.jsonObject(with: Data(accepted.output.utf8)) as? [String: Any]
        let claims = verified?["claims"] as? [String: Any]
        #expect(claims?["name"] as? String == "张*三")
        #expect(claims?["cat"] as? String == "veteran")
        #expect(claims?["iss"] as? String == "yongjun")
        var parts = code.split(separator: ".").map(String.init)
        parts[2] = String(parts[2].reversed())
        let rejected = try runPython(script, jwks, parts.joined(separator: "."))
        #expect(rejected.status == 1)
        #expect(rejected.output.contains("rejected"))
    }

    private func runPython(_ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

@Suite("The README's demo data set", .timeLimit(.minutes(5)))
struct DemoDataTests {
    @Test("scripts/demo-data lays out the demo, and the sample code it prints verifies with the shop key it prints")
    func demoData() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let script = CLI.packageRoot.appendingPathComponent("scripts/demo-data").path
        let made = try runTool(["bash", script, CLI.binary, cli.dataDirectory])
        #expect(made.status == 0, "\(made.output)")
        #expect(made.output.contains("imported 20 card(s): 20 new"))
        let env = try String(contentsOfFile: cli.dataDirectory + "/demo.env", encoding: .utf8)
        let values = Dictionary(
            uniqueKeysWithValues: env.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }
        )
        let mode = try FileManager.default.attributesOfItem(atPath: cli.dataDirectory + "/demo.env")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let answer = try await server.verify(try #require(values["CODE"]), key: try #require(values["KEY"]))
        #expect(answer["valid"] as? Bool == true)
        #expect(answer["holder"] as? String == "张*三")
        #expect(answer["benefit"] as? String == "凭优待证工时费9折", "the demo shop's rule for veterans")
        #expect(values["ACTIVATION"]?.count == 14)
        #expect(try cli.run("batches", "list").stdout.contains("open"))
    }
}
