import Prometheus
import Synchronization
import YongjunCore

/// The Prometheus metrics Yongjun exposes on the admin port: requests per route and status with latency,
/// verifications by result and reason, and the verification log's commit latency and group size.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Open HTTP connections on the main listener and how many were refused for being over `max_connections`.
    let connections = OpenConnections()
    let inFlight = Atomic<Int>(0)

    /// Requests being handled right now (shutdown reports the ones it had to cut off).
    public var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }
    private let verifications: [String: Counter]
    private let commitLatency: DurationHistogram
    private let groupSize: ValueHistogram

    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .seconds(1),
    ]

    public init() {
        var verifications: [String: Counter] = [:]
        verifications["valid"] = registry.makeCounter(
            descriptor: .init(metricName: "yongjun_verifications_total", unitName: "", helpText: "Verifications answered, by result and reason"),
            labels: [("result", "valid"), ("reason", "")]
        )
        for reason in VerificationReason.allCases {
            verifications[reason.rawValue] = registry.makeCounter(
                descriptor: .init(metricName: "yongjun_verifications_total", unitName: "", helpText: "Verifications answered, by result and reason"),
                labels: [("result", "invalid"), ("reason", reason.rawValue)]
            )
        }
        self.verifications = verifications
        commitLatency = registry.makeDurationHistogram(
            descriptor: .init(
                metricName: "yongjun_db_commit_duration_seconds",
                unitName: "",
                helpText: "Time to commit one group of verification records, fsync included"
            ),
            buckets: Self.latencyBuckets
        )
        groupSize = registry.makeValueHistogram(
            descriptor: .init(metricName: "yongjun_db_commit_group_size", unitName: "", helpText: "Verification records per group commit"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256]
        )
    }

    private struct RouteKey: Hashable {
        let method: String
        let route: String
    }

    private struct RequestKey: Hashable {
        let route: RouteKey
        let status: Int
    }

    private struct RequestCollectors {
        var counters: [RequestKey: Counter] = [:]
        var histograms: [RouteKey: DurationHistogram] = [:]
    }

    private let collectors = Mutex(RequestCollectors())

    /// Counts one answered request: one lock, no string building once a route and status have been seen.
    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let routeKey = RouteKey(method: method, route: route)
        let key = RequestKey(route: routeKey, status: status)
        let (counter, histogram) = collectors.withLock { collectors -> (Counter, DurationHistogram) in
            let counter =
                collectors.counters[key]
                ?? {
                    let made = registry.makeCounter(
                        descriptor: .init(metricName: "yongjun_http_requests_total", unitName: "", helpText: "HTTP requests by route and status"),
                        labels: [("method", method), ("route", route), ("status", String(status))]
                    )
                    collectors.counters[key] = made
                    return made
                }()
            let histogram =
                collectors.histograms[routeKey]
                ?? {
                    let made = registry.makeDurationHistogram(
                        descriptor: .init(
                            metricName: "yongjun_http_request_duration_seconds",
                            unitName: "",
                            helpText: "HTTP request latency by route"
                        ),
                        labels: [("method", method), ("route", route)],
                        buckets: Self.latencyBuckets
                    )
                    collectors.histograms[routeKey] = made
                    return made
                }()
            return (counter, histogram)
        }
        counter.increment()
        histogram.record(duration)
    }

    /// Counts one verification answer (`nil` reason = valid).
    func recordVerification(_ reason: VerificationReason?) {
        verifications[reason?.rawValue ?? "valid"]?.increment()
    }

    /// Called by the verification log after each group commit.
    public func recordCommit(duration: Duration, records: Int) {
        commitLatency.record(duration)
        groupSize.record(Double(records))
    }

    /// The text exposition format.
    public func render() -> String {
        registry.emitToString()
            + """
            # HELP yongjun_http_connections_open Open connections on the main listener
            # TYPE yongjun_http_connections_open gauge
            yongjun_http_connections_open \(connections.count.load(ordering: .relaxed))
            # HELP yongjun_http_connections_refused_total Connections refused for being over max_connections
            # TYPE yongjun_http_connections_refused_total counter
            yongjun_http_connections_refused_total \(connections.refused.load(ordering: .relaxed))
            # HELP yongjun_http_requests_in_flight Requests being handled right now
            # TYPE yongjun_http_requests_in_flight gauge
            yongjun_http_requests_in_flight \(requestsInFlight)

            """
    }
}
