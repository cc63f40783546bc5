import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// A token bucket per client address: `rate` requests a second with bursts of twice that, answered 429 beyond.
/// Behind a trusted proxy the client is the last address in `X-Forwarded-For`.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limiter: RateLimiter
    let trustedProxies: Set<String>
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = ClientAddress.resolve(peer: context.peerAddress, forwardedFor: request.headers[Self.forwardedFor], trusted: trustedProxies)
        guard limiter.allow(client, now: ContinuousClock.now) else {
            throw APIError(status: .tooManyRequests, code: "rate_limited", message: "请求过于频繁，请稍后再试", retryAfter: limiter.retryAfter)
        }
        return try await next(request, context)
    }
}

enum ClientAddress {
    static func resolve(peer: String?, forwardedFor: String?, trusted: Set<String>) -> String {
        guard let peer else { return "unknown" }
        guard trusted.contains(peer), let forwardedFor,
            let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return last
    }
}

/// Token buckets by key; idle buckets are dropped once the table grows.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    /// Seconds until one more request is allowed after the bucket ran dry.
    var retryAfter: Int { max(1, Int((1 / rate).rounded(.up))) }
    private let buckets = Mutex<[String: Bucket]>([:])

    init(perSecond rate: Int) {
        self.rate = Double(rate)
        self.burst = Double(max(1, rate * 2))
    }

    /// For slow routes (forms): `count` a minute, all of them at once at most.
    init(perMinute count: Int) {
        self.rate = Double(count) / 60
        self.burst = Double(count)
    }

    func allow(_ key: String, now: ContinuousClock.Instant) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            if buckets.count > 100_000 { buckets.removeAll(keepingCapacity: true) }
            buckets[key] = bucket
            return allowed
        }
    }
}
