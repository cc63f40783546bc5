import Hummingbird
import NIOCore

/// `GET /openapi.yaml`: the API's description (the repository's openapi.yaml), public, for client generators and
/// schemathesis.
struct OpenAPIController {
    typealias Context = AppRequestContext
    /// Encoded once: the document is a few dozen kilobytes and never changes while the process runs.
    static let body = ByteBuffer(bytes: PackageResources.openapi_yaml)

    func add(to router: Router<Context>) {
        router.get("/openapi.yaml") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: .init(byteBuffer: Self.body)
            )
        }
    }
}
