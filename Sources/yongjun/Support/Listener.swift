import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import YongjunServer

/// Runs one HTTP listener and, when its port cannot be bound, fails with a message naming the setting and the port
/// (the whole service group then stops: a server that is half up is worse than one that says why it is down).
struct Listener: Service {
    let service: any Service
    let setting: String
    let host: String
    let port: Int
    /// Cleared as soon as shutdown begins, so `/readyz` stops saying ready while requests drain.
    let readiness: ServerReadiness?

    init(_ service: any Service, setting: String, host: String, port: Int, readiness: ServerReadiness?) {
        self.service = service
        self.setting = setting
        self.host = host
        self.port = port
        self.readiness = readiness
    }

    func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await service.run()
            } onGracefulShutdown: {
                readiness?.set(false)
            }
        } catch let error as IOError {
            readiness?.set(false)
            let reason = error.errnoCode == EADDRINUSE ? "the address is already in use" : String(cString: strerror(error.errnoCode))
            throw CLIFailure(message: "cannot listen on \(host):\(port) (setting \(setting)): \(reason)")
        }
    }
}

/// Waits for the end; if shutdown had to cut requests off after `drain_timeout`, says how many.
struct DrainReporter: Service {
    let metrics: ServerMetrics
    let drainTimeout: Int
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .seconds(365 * 86_400))
            }
        } catch is CancellationError {
            let inFlight = metrics.requestsInFlight
            if inFlight > 0 {
                logger.warning(
                    "shutting down: requests still in flight were cut off",
                    metadata: ["requests": "\(inFlight)", "drain_timeout_s": "\(drainTimeout)"]
                )
            }
        }
    }
}

/// Lets the server keep more connections open than the default soft limit allows (up to the hard limit).
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
