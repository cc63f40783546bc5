import Hummingbird
import Logging
import YongjunStorage

/// The one place where a store that gave no answer in time (`StoreUnreachable`: PostgreSQL down, frozen, or out of
/// connections) becomes an answer: 503 `unavailable` with Retry-After, as JSON on the API and as a short Chinese page
/// on the holders', cashiers' and applicants' pages. Without it the error reached Hummingbird as an unknown one: a
/// bare 500, which a till's system reads as "broken", not "try again".
struct StoreUnreachableMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let retryAfterSeconds = 1

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any StoreUnreachable {
            context.logger.warning("the store did not answer in time", metadata: ["error": "\(error)"])
            let path = request.uri.path
            guard Self.isPage(path) else {
                throw APIError(
                    status: .serviceUnavailable,
                    code: "unavailable",
                    message: "服务暂时不可用，请稍后重试（数据库未及时应答）",
                    retryAfter: Self.retryAfterSeconds
                )
            }
            let page = PageError(status: .serviceUnavailable, message: "服务暂时不可用，请稍候片刻再试", back: path)
            var response = try page.response(from: request, context: context)
            response.headers[.retryAfter] = String(Self.retryAfterSeconds)
            return response
        }
    }

    /// The routes people open in a browser; everything else answers JSON.
    static func isPage(_ path: String) -> Bool {
        path == "/" || path == "/shops" || ["/apply", "/card", "/shop"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }
}
