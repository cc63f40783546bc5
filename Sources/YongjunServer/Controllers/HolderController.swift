import Foundation
import Hummingbird
import YongjunCore
import YongjunStorage

/// The holder's JSON API: activate with the printed code and choose a PIN, sign in, and fetch the current code.
struct HolderController {
    typealias Context = AppRequestContext
    let database: AppDatabase
    let codes: CodeIssuing
    let settings: ServerSettings
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

    func add(to router: Router<Context>) {
        let group = router.group("/api/v1/holder")
        group.post("activate", use: activate)
        group.post("session", use: signIn)
        group.delete("session", use: signOut)
        group.get("code", use: code)
    }

    @Sendable func activate(request: Request, context: Context) async throws -> Response {
        let body = try await Self.body(ActivateRequest.self, request, expected: #"{"cardNo","activationCode","pin"}"#)
        if let problem = PINRule.problem(with: body.pin) { throw APIError(status: .badRequest, code: "weak_pin", message: problem) }
        let card = try activateHolder(cardNo: body.cardNo, activationCode: body.activationCode, pin: body.pin)
        return try startSession(for: card, request: request, status: .ok)
    }

    @Sendable func signIn(request: Request, context: Context) async throws -> Response {
        let body = try await Self.body(SessionRequest.self, request, expected: #"{"cardNo","pin"}"#)
        return try startSession(for: try signInHolder(cardNo: body.cardNo, pin: body.pin), request: request, status: .ok)
    }

    /// The JSON body, or a typed 400 naming the fields expected (never a decoder's English text).
    static func body<T: Decodable>(_ type: T.Type, _ request: Request, expected: String) async throws -> T {
        guard let buffer = try? await request.body.collect(upTo: 8 * 1024),
            let value = try? JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        else { throw APIError.badRequest("请求体必须是 JSON：\(expected)") }
        return value
    }

    /// Checks the activation code and sets the PIN (already checked against `PINRule`); the API and /card use it.
    func activateHolder(cardNo: String, activationCode: String, pin: String) throws -> Card {
        var generator = SystemRandomNumberGenerator()
        let pinHash = try PINHasher(rounds: settings.pinHashRounds).hash(pin, using: &generator)
        let presented = HolderSecret.digest(HolderSecret.normalizedActivationCode(activationCode))
        let now = Date()
        return try access {
            try database.authenticateHolder(
                cardNo: cardNo.trimmingCharacters(in: .whitespaces),
                now: now,
                activating: true,
                check: { activationHash, _ in activationHash.map { ConstantTime.equal(Array($0.utf8), Array(presented.utf8)) } ?? false },
                then: { db, card in try database.setHolderPIN(db, card: card, pinHash: pinHash, now: now) }
            )
        }
    }

    /// Checks a PIN, counting failures; the API and /card use it.
    func signInHolder(cardNo: String, pin: String) throws -> Card {
        let hasher = PINHasher(rounds: settings.pinHashRounds)
        return try access {
            try database.authenticateHolder(
                cardNo: cardNo.trimmingCharacters(in: .whitespaces),
                now: Date(),
                activating: false,
                check: { _, pinHash in pinHash.map { hasher.verify(pin, against: $0) } ?? false }
            )
        }
    }

    @Sendable func signOut(request: Request, context: Context) async throws -> Response {
        if let token = request.cookies[Self.cookieName]?.value { try database.endHolderSession(token: token) }
        var response = Response(status: .noContent)
        response.setCookie(Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: secure(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// `{"code","shortCode","expiresAt",…}` for the signed-in holder.
    @Sendable func code(request: Request, context: Context) async throws -> Response {
        guard let token = request.cookies[Self.cookieName]?.value, let card = try await database.holderSessionCard(token: token, now: Date()) else {
            throw APIError(status: .unauthorized, code: "not_signed_in", message: "请先登录")
        }
        let issued = try codes.issue(for: card, now: Date())
        var json = JSONText()
        json.add("code", issued.code.token)
        json.add("shortCode", issued.shortCode)
        json.add("expiresAt", Timestamp.iso(issued.code.claims.expiresAt))
        json.add("category", card.category.rawValue)
        json.add("categoryLabel", card.category.label)
        json.add("holder", issued.code.claims.name)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: json.string))
        )
    }

    private func startSession(for card: Card, request: Request, status: HTTPResponse.Status) throws -> Response {
        var generator = SystemRandomNumberGenerator()
        let token = HolderSecret.sessionToken(using: &generator)
        try database.createHolderSession(cardID: card.id, token: token, now: Date(), lifetime: TimeInterval(settings.holderSessionLifetime))
        var json = JSONText()
        json.add("holder", NameMask.mask(card.name))
        json.add("category", card.category.rawValue)
        json.add("categoryLabel", card.category.label)
        var response = Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: json.string))
        )
        response.setCookie(
            Cookie(
                name: Self.cookieName,
                value: token,
                maxAge: settings.holderSessionLifetime,
                path: "/",
                secure: secure(request),
                httpOnly: true,
                sameSite: .strict
            )
        )
        return response
    }

    /// Secure cookies over TLS, served directly or by a proxy that says so.
    private func secure(_ request: Request) -> Bool {
        settings.tlsEnabled || request.headers[.init("X-Forwarded-Proto")!] == "https"
    }

    func access(_ body: () throws -> Card) throws -> Card {
        do {
            return try body()
        } catch let error as HolderAccessError {
            switch error {
            case .wrongCredentials(let left):
                throw APIError(status: .unauthorized, code: "wrong_credentials", message: "证号、激活码或 PIN 不正确，还可尝试 \(left) 次")
            case .locked(let seconds):
                throw APIError(
                    status: .tooManyRequests,
                    code: "locked",
                    message: "错误次数过多，已暂时锁定，请 \((seconds + 59) / 60) 分钟后再试，或联系退役军人事务局解锁",
                    retryAfter: seconds
                )
            case .notActivated: throw APIError(status: .forbidden, code: "not_activated", message: "此证尚未激活，请使用事务局发放的激活码激活")
            case .alreadyActivated: throw APIError(status: .conflict, code: "already_activated", message: "此证已激活，请直接用 PIN 登录")
            case .cardNotUsable(let reason): throw APIError(status: .forbidden, code: "card_not_usable", message: reason)
            }
        }
    }
}
