import Foundation
import Hummingbird
import Synchronization
import YongjunCore
import YongjunStorage

/// `/healthz` (the process answers) and `/readyz` (the main listener is serving, the database answers and signing
/// keys are loaded).
struct HealthController<Context: RequestContext> {
    let database: any Store
    let keys: KeyRingProvider
    let readiness: ServerReadiness

    func add(to router: Router<Context>) {
        router.get("/healthz") { _, _ in "ok" }
        router.get("/readyz") { _, _ in try await ready() }
    }

    func ready() async throws -> Response {
        var problems: [String] = []
        if !readiness.serving.load(ordering: .relaxed) { problems.append("the main listener is not serving") }
        do {
            try await database.ping()
        } catch {
            problems.append("database unreachable")
        }
        if keys.keyRing.keys.isEmpty { problems.append("no signing keys loaded") }
        guard problems.isEmpty else {
            throw APIError(status: .serviceUnavailable, code: "not_ready", message: problems.joined(separator: "; "))
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready")))
    }
}

/// Whether the main listener is accepting shops' requests: set once it is bound, cleared when shutdown begins, so the
/// admin listener's `/readyz` never reports ready for a server that cannot be reached.
public final class ServerReadiness: Sendable {
    let serving = Atomic<Bool>(false)

    public init() {}

    public func set(_ value: Bool) { serving.store(value, ordering: .relaxed) }
}
