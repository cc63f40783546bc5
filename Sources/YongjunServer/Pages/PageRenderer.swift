import Foundation
import Hummingbird
import Mustache
import YongjunCore

/// Renders a page template inside the layout, and handles the double-submit CSRF cookie every form carries.
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let cookies: CookiePolicy
    static let csrfCookie = "yj_csrf"

    func page(title: String, template: String, data: [String: Any] = [:], refresh: Int? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let content = library.render(data, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "content": content]
        if let refresh { layout["refresh"] = refresh }
        let html = library.render(layout, withTemplate: "page") ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// A form's CSRF token: the request's, or a new one that `withCSRF` sets as a cookie.
    struct CSRFToken {
        let token: String
        let isNew: Bool
        let secure: Bool
    }

    /// The request's CSRF token, or a new one that `withCSRF` will set as a cookie.
    func csrfToken(_ request: Request, _ context: AppRequestContext) -> CSRFToken {
        let secure = cookies.isSecure(request, context)
        if let existing = request.cookies[Self.csrfCookie]?.value, existing.count == 43 {
            return CSRFToken(token: existing, isNew: false, secure: secure)
        }
        var generator = SystemRandomNumberGenerator()
        return CSRFToken(token: HolderSecret.sessionToken(using: &generator), isNew: true, secure: secure)
    }

    func withCSRF(_ response: Response, _ csrf: CSRFToken) -> Response {
        guard csrf.isNew else { return response }
        var response = response
        response.setCookie(cookies.cookie(Self.csrfCookie, csrf.token, maxAge: 86_400, secure: csrf.secure))
        return response
    }

    /// Throws unless the form's token matches the cookie's.
    func checkCSRF(_ request: Request, form: [String: String]) throws {
        guard let cookie = request.cookies[Self.csrfCookie]?.value, let field = form["csrf"],
            ConstantTime.equal(Array(cookie.utf8), Array(field.utf8))
        else { throw PageError(status: .forbidden, message: "页面已过期，请返回刷新后重试", back: request.uri.path) }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}

/// Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes.
func readForm(_ request: Request, limit: Int = 8 * 1024) async throws -> [String: String] {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch {
        throw APIError(status: .contentTooLarge, code: "body_too_large", message: "提交的内容太长")
    }
    return FormBody.decode(buffer.readableBytesView)
}

/// An error on a page route, answered as a small HTML page in Chinese with a way back, not as JSON.
struct PageError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    let back: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let escaped = HTMLText.escape(message)
        let target = back.hasPrefix("/shop") ? "/shop" : back.hasPrefix("/apply") ? "/apply" : "/card"
        let html = """
            <!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>出错了</title><link rel="stylesheet" href="/assets/site.css"></head><body><header>一城百店齐拥军</header>
            <main><p class="error">\(escaped)</p><a class="button" href="\(target)">返回</a></main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
