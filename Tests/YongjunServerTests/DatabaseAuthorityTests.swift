import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import YongjunCore
import YongjunServer
import YongjunStorage

/// Two servers on one database, each with its own memory: only the database can keep "used once" and
/// "answered once" between them — the way a second process, or a bug in the memory, would test it.
@Suite("The database, not memory, keeps single use and idempotency", .timeLimit(.minutes(5)))
struct DatabaseAuthorityTests {
    @Test("a code used through one server is already_used_here through the other; a nonce replays across both")
    func twoServersOneDatabase() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let key = fixture.apiKey.text
        let first = try fixture.code()
        try await fixture.application().test(.live) { one in
            try await fixture.application().test(.live) { two in
                #expect(try await one.verify(first, key: key).valid == true)
                let second = try await two.verify(first, key: key)
                #expect(second.valid == false)
                #expect(second.reason == "already_used_here", "the other server's memory never saw the first use")

                let code = try fixture.code()
                let answered = try await one.verify(code, key: key, nonce: "till-7-000001")
                let replayed = try await two.verify(code, key: key, nonce: "till-7-000001")
                #expect(replayed.verificationID == answered.verificationID)
                #expect(replayed.valid == true)
                #expect(try fixture.database.verificationCount() == 3)
            }
        }
    }

    @Test("64 concurrent redemptions of one code across two servers give exactly one valid")
    func concurrentRedemptions() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let key = fixture.apiKey.text
        let code = try fixture.code()
        try await fixture.application().test(.live) { one in
            try await fixture.application().test(.live) { two in
                let answers = try await withThrowingTaskGroup(of: APIAnswer.self) { group in
                    for index in 0..<64 {
                        if index.isMultiple(of: 2) {
                            group.addTask { try await one.verify(code, key: key) }
                        } else {
                            group.addTask { try await two.verify(code, key: key) }
                        }
                    }
                    return try await group.reduce(into: [APIAnswer]()) { $0.append($1) }
                }
                #expect(answers.filter { $0.valid == true }.count == 1)
                #expect(answers.filter { $0.reason == "already_used_here" }.count == 63)
            }
        }
    }
}

@Suite("Readiness of the admin listener")
struct ReadinessTests {
    @Test("/readyz on the admin listener answers 503 until the main listener serves, and again once it stops")
    func adminReadiness() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let readiness = ServerReadiness()
        let keys = try KeyRingProvider(store: fixture.keyStore, issuer: "yongjun", now: Date.distantPast)
        var settings = ServerSettings()
        settings.adminPort = 0
        let admin = buildAdminApplication(
            settings: settings,
            dependencies: ServerDependencies(database: fixture.database, keys: keys, readiness: readiness),
            logger: .init(label: "test")
        )
        try await admin.test(.router) { client in
            let before = try await client.execute(uri: "/readyz", method: .get).status
            readiness.set(true)
            let serving = try await client.execute(uri: "/readyz", method: .get).status
            readiness.set(false)
            let stopping = try await client.execute(uri: "/readyz", method: .get).status
            #expect([before, serving, stopping] == [.serviceUnavailable, .ok, .serviceUnavailable])
        }
    }
}
