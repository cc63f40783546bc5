import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// The holder's JSON API: activate with the printed code and choose a PIN, sign in, and fetch the current code.
struct HolderController {
    typealias Context = AppRequestContext
    let database: any Store
    let codes: CodeIssuing
    let signIn: HolderSignIn
    let cookies: CookiePolicy
    let sessionLifetime: Int
    static let cookieName = "yj_session"

    struct ActivateRequest: Decodable {
        let cardNo: String
        let activationCode: String
        let pin: String
    }

    struct SessionRequest: Decodable {
        let cardNo: String
        let pin: String
    }

    func add(to router: Router<Context>, limiter: RateLimitMiddleware?) {
        let posts = router.group("/api/v1/holder")
        if let limiter { posts.add(middleware: limiter) }
        posts.post("activate", use: activate)
        posts.post("session", use: startSession)
        let group = router.group("/api/v1/holder")
        group.delete("session", use: signOut)
        group.get("code", use: code)
    }

    @Sendable func activate(request: Request, context: Context) async throws -> Response {
        let body = try await Self.body(ActivateRequest.self, request, expected: #"{"cardNo","activationCode","pin"}"#)
        if let problem = PINRule.problem(with: body.pin) { throw APIError(status: .badRequest, code: "weak_pin", message: problem) }
        let card = try await signIn.activate(cardNo: body.cardNo, activationCode: body.activationCode, pin: body.pin)
        return try await session(for: card, request: request, context: context)
    }

    @Sendable func startSession(request: Request, context: Context) async throws -> Response {
        let body = try await Self.body(SessionRequest.self, request, expected: #"{"cardNo","pin"}"#)
        return try await session(for: try await signIn.signIn(cardNo: body.cardNo, pin: body.pin), request: request, context: context)
    }

    /// The JSON body, or a typed 415/413/400 (never a decoder's English text). Only `application/json` is read: a form
    /// or `text/plain` post from another site (which a browser sends without asking) is refused before it counts.
    static func body<T: Decodable>(_ type: T.Type, _ request: Request, expected: String, limit: Int = 8 * 1024) async throws -> T {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw APIError(status: .unsupportedMediaType, code: "unsupported_media_type", message: "请求须为 Content-Type: application/json")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(status: .contentTooLarge, code: "body_too_large", message: "请求体超过 \(limit) 字节")
        }
        guard let value = try? JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) else {
            throw APIError.badRequest("请求体必须是 JSON：\(expected)")
        }
        return value
    }

    @Sendable func signOut(request: Request, context: Context) async throws -> Response {
        if let token = request.cookies[Self.cookieName]?.value { try await database.endHolderSession(token: token) }
        var response = Response(status: .noContent)
        response.setCookie(cookies.cookie(Self.cookieName, "", maxAge: 0, for: request, context))
        return response
    }

    /// `{"code","shortCode","expiresAt",…}` for the signed-in holder.
    @Sendable func code(request: Request, context: Context) async throws -> Response {
        guard let token = request.cookies[Self.cookieName]?.value, let card = try await database.holderSessionCard(token: token, now: Date()) else {
            throw APIError(status: .unauthorized, code: "not_signed_in", message: "请先登录")
        }
        let issued = try await codes.issue(for: card, now: Date())
        var json = JSONText()
        json.add("code", issued.code.token)
        json.add("shortCode", issued.shortCode)
        json.add("expiresAt", Timestamp.iso(issued.code.claims.expiresAt))
        json.add("category", card.category.rawValue)
        json.add("categoryLabel", card.category.label)
        json.add("holder", issued.code.claims.name)
        return Self.json(json, status: .ok)
    }

    private func session(for card: Card, request: Request, context: Context) async throws -> Response {
        let token = try await signIn.startSession(for: card)
        var json = JSONText()
        json.add("holder", NameMask.mask(card.name))
        json.add("category", card.category.rawValue)
        json.add("categoryLabel", card.category.label)
        var response = Self.json(json, status: .ok)
        response.setCookie(cookies.cookie(Self.cookieName, token, maxAge: sessionLifetime, for: request, context))
        return response
    }

    static func json(_ json: JSONText, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: json.string))
        )
    }
}
