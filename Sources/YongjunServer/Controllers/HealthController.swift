import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// `/healthz` (the process answers) and `/readyz` (the database answers and signing keys are loaded).
struct HealthController<Context: RequestContext> {
    let database: AppDatabase
    let keys: KeyRingProvider

    func add(to router: Router<Context>) {
        router.get("/healthz") { _, _ in "ok" }
        router.get("/readyz") { _, _ in try await ready() }
    }

    func ready() async throws -> Response {
        var problems: [String] = []
        do {
            try await database.ping()
        } catch {
            problems.append("database unreachable")
        }
        if keys.verifier.keyRing.keys.isEmpty { problems.append("no signing keys loaded") }
        guard problems.isEmpty else {
            throw APIError(status: .serviceUnavailable, code: "not_ready", message: problems.joined(separator: "; "))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready")))
    }
}
