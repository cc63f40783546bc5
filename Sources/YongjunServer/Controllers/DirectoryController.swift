import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// `GET /api/v1/merchants`: the public directory of active partner shops, for other apps (`?industry=catering`).
struct DirectoryController {
    typealias Context = AppRequestContext
    let database: any Store

    struct Shop: Encodable {
        let id: Int64
        let name: String
        let industry: String
        let industryLabel: String
        let address: String?
        let benefit: String?
        let batch: Int64?
    }

    func add(to router: Router<Context>) {
        router.get("/api/v1/merchants", use: list)
    }

    @Sendable func list(request: Request, context: Context) async throws -> Response {
        var industry: Industry?
        if let text = request.uri.queryParameters.get("industry") {
            guard let parsed = Industry(codeOrLabel: text) else {
                throw APIError.badRequest("industry 须为 \(Industry.allCases.map(\.rawValue).joined(separator: "、")) 之一")
            }
            industry = parsed
        }
        let shops = try await database.merchants(status: .active, industry: industry).map {
            Shop(
                id: $0.id ?? 0,
                name: $0.name,
                industry: $0.industry.rawValue,
                industryLabel: $0.industry.label,
                address: $0.address,
                benefit: $0.benefit,
                batch: $0.batchNumber
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "public, max-age=60"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(shops)))
        )
    }
}
