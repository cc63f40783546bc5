import Hummingbird
import Logging
import Synchronization

/// One log line and one metrics sample per request: method, route, status, duration and, on the verification
/// route, the shop's id. Never the path's query, a body, a code, a key or a PIN.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.inFlight.wrappingAdd(1, ordering: .relaxed)
        defer { metrics.inFlight.wrappingSubtract(1, ordering: .relaxed) }
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            finish(request, context, status: status, start: start)
            return response
        } catch let error as any HTTPResponseError {
            finish(request, context, status: error.status.code, start: start)
            throw error
        } catch {
            finish(request, context, status: 500, start: start)
            throw error
        }
    }

    private func finish(_ request: Request, _ context: Context, status: Int, start: ContinuousClock.Instant) {
        let duration = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(method: request.method.rawValue, route: route, status: status, duration: duration)
        guard context.logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(status)",
            "duration_ms": "\(Double(duration.components.attoseconds / 1_000_000_000_000) / 1000)",
        ]
        let merchant = context.trace.merchantID.load(ordering: .relaxed)
        if merchant != 0 { metadata["merchant"] = "\(merchant)" }
        context.logger.info("request", metadata: metadata)
    }
}
