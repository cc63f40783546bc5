import Foundation
import HTTPTypes
import Hummingbird

/// The one rule for Yongjun's cookies: HttpOnly, SameSite=Strict, path `/`, and `Secure` whenever the browser
/// reached us over HTTPS — served by us, or by a proxy in `trusted_proxy` that says so in `X-Forwarded-Proto`
/// (from anyone else that header is ignored: a client could send it over plain HTTP).
struct CookiePolicy: Sendable {
    let tlsEnabled: Bool
    let trustedProxies: Set<String>
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!

    func isSecure(_ request: Request, _ context: AppRequestContext) -> Bool {
        if tlsEnabled { return true }
        guard let peer = context.peerAddress, trustedProxies.contains(peer), let proto = request.headers[Self.forwardedProto] else { return false }
        return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, for request: Request, _ context: AppRequestContext) -> Cookie {
        cookie(name, value, maxAge: maxAge, secure: isSecure(request, context))
    }
}
