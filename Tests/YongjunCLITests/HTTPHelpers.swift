import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP answer as a client sees it: status, headers (names lower-cased), body.
struct HTTPReply: @unchecked Sendable {
    let status: Int
    let headers: [String: String]
    let body: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var error: String? { json["error"] as? String }
    var reason: String? { json["reason"] as? String }
    var message: String? { json["message"] as? String }
    /// `name=value` of a Set-Cookie header for `name`, with its attributes.
    func setCookie(_ name: String) -> String? {
        headers["set-cookie"]?.components(separatedBy: ", ").first { $0.hasPrefix(name + "=") }
    }
    func cookieValue(_ name: String) -> String? {
        setCookie(name)?.split(separator: ";").first.map { String($0.dropFirst(name.count + 1)) }
    }
}

/// Plain HTTP requests: no cookie jar, no redirects followed, many connections at once.
final class HTTPClient: Sendable {
    let base: URL

    /// One session for the whole test process. A session per client was never invalidated (a session keeps its
    /// delegate, and the client was its delegate), and `server.client` makes a client per request: every request
    /// left a session with its keep-alive sockets open, thousands over the suite. Past 1,024 descriptors
    /// FoundationNetworking's select() loop stops seeing sockets, and a full run once hung with every test done.
    fileprivate static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 30
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()

    init(_ base: URL) {
        self.base = base
    }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) async throws -> HTTPReply {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await Self.fetch(request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return HTTPReply(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    func json(_ path: String, _ object: [String: String], headers: [String: String] = [:]) async throws -> HTTPReply {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        return try await send("POST", path, headers: headers.merging(["Content-Type": "application/json"]) { $1 }, body: body)
    }

    func verify(_ code: String, key: String, nonce: String? = nil) async throws -> HTTPReply {
        var object = ["code": code]
        if let nonce { object["nonce"] = nonce }
        return try await json("/api/v1/verifications", object, headers: ["Authorization": "Bearer \(key)"])
    }

    /// A till's retry: the same verification again while it is answered 503, a second apart, at most `tries` times.
    /// Every reply; the last is the first that was not 503 (or the last try's).
    func verifyWhileUnavailable(_ code: String, key: String, nonce: String, tries: Int) async throws -> [HTTPReply] {
        var replies: [HTTPReply] = []
        for _ in 0..<tries {
            let reply = try await verify(code, key: key, nonce: nonce)
            replies.append(reply)
            if reply.status != 503 { break }
            try await Task.sleep(for: .seconds(1))
        }
        return replies
    }

    /// A form post with the CSRF cookie and field a page would carry (fetched from `page` first).
    func form(_ path: String, page: String, fields: [String: String], cookies: [String: String] = [:]) async throws -> HTTPReply {
        let first = try await send("GET", page, headers: cookieHeader(cookies))
        let csrf = first.cookieValue("yj_csrf") ?? cookies["yj_csrf"] ?? ""
        var all = fields
        all["csrf"] = csrf
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        var jar = cookies
        jar["yj_csrf"] = csrf
        return try await send(
            "POST",
            path,
            headers: cookieHeader(jar).merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
            body: body
        )
    }

    func cookieHeader(_ cookies: [String: String]) -> [String: String] {
        cookies.isEmpty ? [:] : ["Cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")]
    }

}

extension HTTPClient {
    struct NoAnswer: Error, CustomStringConvertible {
        let url: String
        var description: String { "no answer from \(url) within 60 s" }
    }

    /// One request, answered or failed within 60 s whatever happens. FoundationNetworking's async `data(for:)` was
    /// seen, under the whole suite's load, never to return (every task idle, the run never ending, one test waiting
    /// on a request), and it ignores cancellation; with the completion handler and a timer of our own the test
    /// fails instead of hanging the run.
    static func fetch(_ request: URLRequest, session: URLSession = session) async throws -> (Data, URLResponse) {
        let resumed = Mutex(false)
        return try await withCheckedThrowingContinuation { continuation in
            @Sendable func finish(_ result: Result<(Data, URLResponse), any Error>) {
                guard
                    resumed.withLock({ done in
                        defer { done = true }
                        return !done
                    })
                else { return }
                continuation.resume(with: result)
            }
            let task = session.dataTask(with: request) { data, response, error in
                if let data, let response {
                    finish(.success((data, response)))
                } else {
                    finish(.failure(error ?? NoAnswer(url: request.url?.absoluteString ?? "?")))
                }
            }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
                task.cancel()
                finish(.failure(NoAnswer(url: request.url?.absoluteString ?? "?")))
            }
        }
    }
}

/// Redirects are answers to look at, not to follow.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// A raw TCP connection to 127.0.0.1, for clients that misbehave (half-sent requests, idle sockets).
final class RawConnection {
    let descriptor: Int32

    init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            throw RawError(description: "connect failed: errno \(errno)")
        }
    }

    struct RawError: Error, CustomStringConvertible {
        let description: String
    }

    func send(_ text: String) {
        _ = text.withCString { Glibc.send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// What arrives within `timeout` seconds, and whether the server closed the connection.
    func receive(timeout: Double) -> (text: String, closed: Bool) {
        var received = [UInt8]()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received += buffer[0..<count]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    deinit { close(descriptor) }
}

/// A port some other program is listening on.
final class OccupiedPort {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 4) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw RawConnection.RawError(description: "could not occupy a port: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

extension ServerProcess {
    var client: HTTPClient { HTTPClient(baseURL) }
    var port: Int { baseURL.port ?? 0 }
}

extension CLI {
    /// Activates `card` on the holder API with `pin`; returns the session cookie's value.
    func activateHolder(_ card: String, pin: String, on client: HTTPClient) async throws -> String {
        let code = try run("cards", "activation", card).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let reply = try await client.json("/api/v1/holder/activate", ["cardNo": card, "activationCode": code, "pin": pin])
        #expect(reply.status == 200, "\(reply.body)")
        return try #require(reply.cookieValue("yj_session"))
    }

    /// A shop's id and key: `merchants add` then `merchants key`.
    func addShop(_ name: String) throws -> (id: String, key: String) {
        let id = try run("merchants", "add", "--name", name, "--industry", "catering").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (id, try run("merchants", "key", id).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension HTTPClient {
    /// The signed-in holder's current code and its 9-digit stand-in.
    func holderCode(session: String) async throws -> (code: String, shortCode: String) {
        let reply = try await send("GET", "/api/v1/holder/code", headers: ["Cookie": "yj_session=\(session)"])
        return (try #require(reply.json["code"] as? String), try #require(reply.json["shortCode"] as? String))
    }
}

extension OccupiedPort {
    /// A port free right now (taken and released), for a program the test starts.
    static func freePort() throws -> Int {
        try OccupiedPort().port
    }
}

/// What curl saw of one request, timed by curl itself (this test process's own threads may crawl when the whole
/// suite runs): the status (0 when there was no answer), the headers, the body and the seconds it took.
struct CurlReply: Sendable, CustomStringConvertible {
    let status: Int
    let headers: String
    let body: String
    let seconds: Double

    var description: String { "\(status) in \(seconds) s: \(body.prefix(500))" }
}

/// Runs one curl per entry, all at once (`arguments` after the common ones: method, headers, body, URL).
func concurrentCurls(in folder: String, _ requests: [String: [String]]) throws -> [String: CurlReply] {
    let dir = folder + "/curls-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var script = ""
    for (name, arguments) in requests {
        let common = [
            "curl", "-s", "--max-time", "60", "-D", "\(dir)/\(name).headers", "-o", "\(dir)/\(name).body", "-w", "%{http_code} %{time_total}",
        ]
        script += (common + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        script += " > '\(dir)/\(name).status' &\n"
    }
    _ = try runTool(["bash", "-c", script + "wait"])
    var answers: [String: CurlReply] = [:]
    for name in requests.keys {
        let read = { (suffix: String) in (try? String(contentsOfFile: "\(dir)/\(name).\(suffix)", encoding: .utf8)) ?? "" }
        let parts = read("status").split(separator: " ")
        answers[name] = CurlReply(
            status: Int(parts.first ?? "") ?? 0,
            headers: read("headers"),
            body: read("body"),
            seconds: Double(parts.last ?? "") ?? 99
        )
    }
    return answers
}

/// One request with curl (`concurrentCurls` of one).
func timedCurl(in folder: String, _ arguments: [String]) throws -> CurlReply {
    try concurrentCurls(in: folder, ["one": arguments])["one"] ?? CurlReply(status: 0, headers: "", body: "", seconds: 99)
}
