import Foundation
import Testing
import YongjunCore

/// The once-a-day benefit and the offline upload pushed on: a burst of tills at once, a restart, a resent batch
/// racing itself, oversized batches.
@Suite("Benefits and offline records under pressure, against the real server")
struct BenefitPressureTests {
    @Test("20 tills at once for one holder under a once-a-day rule: exactly one gets it, and a restart does not reset it")
    func onceADayBurst() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        #expect(
            try cli.run("merchants", "benefits", "1", "--set", try cli.write("r.csv", "categories,benefit,once_per_day\nall,每日一份免费早餐,yes\n")).status
                == 0
        )
        let codes = try cli.run(["cards", "code"] + Array(repeating: "LZ0001", count: 20)).stdout.split(separator: "\n").map(String.init)
        #expect(codes.count == 20)
        var server = try ServerProcess(cli: cli)
        let client = server.client
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for code in codes { group.addTask { try await client.verify(code, key: key) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let answers = replies.map(\.json)
        #expect(answers.allSatisfy { $0["valid"] as? Bool == true })
        #expect(answers.filter { $0["eligible"] as? Bool == true }.count == 1, "the daily benefit was given more than once")
        #expect(answers.filter { $0["reason"] as? String == "not_eligible_here" }.count == 19)

        #expect(server.stop() == 0)
        server = try ServerProcess(cli: cli)
        let again = try cli.run("cards", "code", "LZ0001").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.client.verify(again, key: key).json["eligible"] as? Bool == false, "a restart forgot the day's benefit")
        // Another holder still gets it.
        let other = try cli.run("cards", "code", "LZ0002").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.client.verify(other, key: key).json["eligible"] as? Bool == true)
    }

    @Test("the same offline batch sent twice at once is recorded once; oversized batches are refused whole")
    func offlineRaceAndSize() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let key = try cli.prepare()
        let server = try ServerProcess(cli: cli)
        let codes = try cli.run(["cards", "code"] + Array(repeating: "LZ0001", count: 10)).stdout.split(separator: "\n").map(String.init)
        let now = Timestamp.iso(Date())
        let records = codes.enumerated().map { ["code": $0.element, "nonce": "race-\($0.offset)", "verifiedAt": now, "result": "valid"] }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["records": records]), as: UTF8.self)
        let headers = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
        let client = server.client
        let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
            for _ in 0..<2 { group.addTask { try await client.send("POST", "/api/v1/verifications/offline", headers: headers, body: body) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.allSatisfy { $0.status == 200 })
        #expect(replies.compactMap { $0.json["accepted"] as? Int }.sorted() == [0, 10], "\(replies.map(\.body))")
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 1") == "10")

        let tooMany = (0..<501).map { ["code": "x", "nonce": "n\($0)", "verifiedAt": now, "result": "valid"] }
        let many = try await client.send(
            "POST",
            "/api/v1/verifications/offline",
            headers: headers,
            body: String(decoding: try JSONSerialization.data(withJSONObject: ["records": tooMany]), as: UTF8.self)
        )
        #expect(many.status == 413 && many.error == "too_many_records")
        let huge = try await client.send(
            "POST",
            "/api/v1/verifications/offline",
            headers: headers,
            body: #"{"records":[{"code":""# + String(repeating: "A", count: 2 << 20) + #"","nonce":"h","verifiedAt":"\#(now)","result":"valid"}]}"#
        )
        #expect(huge.status == 413 && huge.error == "body_too_large")
        #expect(try cli.sqlite("SELECT count(*) FROM verifications WHERE offline = 1") == "10", "a refused batch wrote records")
    }
}
