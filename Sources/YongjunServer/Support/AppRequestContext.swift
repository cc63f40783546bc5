import Hummingbird
import NIOCore
import Synchronization

/// The request context of every Yongjun route: the standard one, plus where the request came from and a
/// slot the verification route fills with the shop's id so that the request log can name it.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer (a proxy's address when behind nginx).
    public let peerAddress: String?
    let trace: RequestTrace

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
        self.trace = RequestTrace()
    }
}

/// Facts a handler learns that the logging middleware reports after the handler returns.
final class RequestTrace: Sendable {
    /// 0 until a shop authenticated.
    let merchantID = Atomic<Int64>(0)
}
