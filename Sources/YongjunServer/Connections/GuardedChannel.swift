import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// How long a client may take, and how many may be connected at once.
struct ConnectionLimits: Sendable {
    /// From a request's first byte to its last (head and body); a slow sender is disconnected after it.
    var readTimeout: TimeAmount
    /// An idle keep-alive connection is closed after it.
    var idleTimeout: TimeAmount
    /// More open connections than this are answered 503 and closed at once.
    var maxConnections: Int
}

/// Wraps the HTTP (or TLS) child channel with the connection limits: counts open connections, refusing excess ones
/// quickly instead of letting them queue, and starts the request-read clock on a request's first byte.
///
/// Hummingbird's own idle timeout covers silent connections; a client that trickles a request in (one byte every few
/// seconds) is never idle, so the read deadline runs from the first byte until the request has been fully decoded.
struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let limits: ConnectionLimits
    let open: OpenConnections

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let count = open.count.wrappingAdd(1, ordering: .relaxed).newValue
        let counter = open
        channel.closeFuture.whenComplete { _ in counter.count.wrappingSubtract(1, ordering: .relaxed) }
        do {
            if count > limits.maxConnections {
                counter.refused.wrappingAdd(1, ordering: .relaxed)
                try channel.pipeline.syncOperations.addHandler(ConnectionRefusal(), position: .first)
            } else {
                try channel.pipeline.syncOperations.addHandler(RequestReadDeadline(timeout: limits.readTimeout), position: .first)
            }
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Answers a connection over the limit with a bare 503 as soon as it is active, and closes it.
final class ConnectionRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    static let answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    /// Nothing a refused client sends is read.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: Self.answer))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}

/// Open connections and how many were refused (metrics and tests).
final class OpenConnections: Sendable {
    let count = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
}

/// First in the pipeline: notes when a request's first bytes arrive and closes the connection if the rest takes
/// longer than `timeout`. `RequestEndMarker`, after the HTTP decoder, clears the note once the request's end is
/// decoded. One repeating check per connection (every half timeout) rather than a timer per request keeps the hot
/// path to a clock read; a slow sender is cut off between 1 and 1.5 times `timeout` after its first byte.
final class RequestReadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let timeout: TimeAmount
    private var started: NIODeadline?
    private var check: RepeatedTask?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let period = TimeAmount.nanoseconds(max(timeout.nanoseconds / 2, 1_000_000))
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            let (handler, context) = bound.value
            if let started = handler.started, NIODeadline.now() - started > handler.timeout { context.close(promise: nil) }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if started == nil { started = .now() }
        context.fireChannelRead(data)
    }

    /// The request being read has fully arrived.
    func requestEnded() {
        started = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }
}
