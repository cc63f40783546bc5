import Hummingbird

/// Sign-in and form posts per client address (behind `trusted_proxy`, the forwarded client), for the pages that
/// answer a refusal with the form itself rather than with JSON.
struct FormRateLimit: Sendable {
    let limiter: RateLimiter?
    let trustedProxies: Set<String>

    init(perMinute: Int, trustedProxies: Set<String>) {
        self.limiter = perMinute > 0 ? RateLimiter(perMinute: perMinute) : nil
        self.trustedProxies = trustedProxies
    }

    func allow(_ request: Request, _ context: AppRequestContext) -> Bool {
        guard let limiter else { return true }
        let client = ClientAddress.resolve(
            peer: context.peerAddress,
            forwardedFor: request.headers[RateLimitMiddleware.forwardedFor],
            trusted: trustedProxies
        )
        return limiter.allow(client, now: ContinuousClock.now)
    }

    /// The same limit as middleware for JSON routes (answered 429 `rate_limited`).
    var middleware: RateLimitMiddleware? {
        limiter.map { RateLimitMiddleware(limiter: $0, trustedProxies: trustedProxies) }
    }
}
