import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// How long a client may take to send a request: the slow-client defence.
///
/// The idle timeout alone does not stop a client that trickles a request a byte at a time: every
/// byte restarts it. So, like Apache's `RequestReadTimeout`:
/// * the request head (line and headers) must be complete within `headerSeconds` of its first
///   byte, else the answer is `408 Request Timeout` and the connection is closed;
/// * the body must arrive within `bodySeconds`, extended by one second per `minimumBodyRate`
///   bytes received (a 20 MiB upload at 100 kB/s is fine, a trickle is not), else the connection
///   is closed and the handler reading it sees the body end in an error.
///
/// Time the server itself spends not reading (back-pressure while a handler is busy) never counts
/// against the client: a deadline only fires while the channel is asking for bytes.
struct RequestDeadlines: Sendable {
    var headerSeconds: Int64 = 20
    var bodySeconds: Int64 = 20
    var minimumBodyRate: Int64 = 500

    /// The handlers for `HTTP1Channel`'s additional handlers (after HTTP decoding). It puts its
    /// byte-level partner at the front of the pipeline itself, to see bytes before there is a head.
    func handler() -> RequestDeadlineHandler { RequestDeadlineHandler(self) }
}

/// Watches request parts after the HTTP decoder and owns the deadline.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private enum State {
        case betweenRequests
        case head(deadline: NIODeadline)
        case body(deadline: NIODeadline)

        var deadline: NIODeadline? {
            switch self {
            case .betweenRequests: nil
            case .head(let deadline), .body(let deadline): deadline
            }
        }
    }

    private let limits: RequestDeadlines
    private var state = State.betweenRequests
    private var timer: Scheduled<Void>?
    /// When `timer` fires. A request moves its deadline on at every part; the timer is moved only
    /// when a deadline comes earlier than it fires (a timer that fires early looks again), so a
    /// request costs no timer work on the event loop's heap at all in the common case.
    private var timerFires: NIODeadline?
    private var bytes: RequestByteWatcher?
    private var context: ChannelHandlerContext?

    init(_ limits: RequestDeadlines) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let watcher = RequestByteWatcher(owner: self)
        bytes = watcher
        try? context.pipeline.syncOperations.addHandler(watcher, position: .first)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        bytes?.owner = nil
        self.context = nil
    }

    /// The first bytes of a request arrived (seen by the byte watcher, before any head).
    fileprivate func bytesArrived() {
        guard case .betweenRequests = state else { return }
        arm(.head(deadline: .now() + .seconds(limits.headerSeconds)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            arm(.body(deadline: .now() + .seconds(limits.bodySeconds)))
        case .body(let buffer):
            if case .body(let deadline) = state {
                let credit = Int64(buffer.readableBytes) * 1_000_000_000 / max(1, limits.minimumBodyRate)
                state = .body(deadline: deadline + .nanoseconds(credit))
            }
        case .end:
            // The timer stays: when it fires between requests it stops.
            state = .betweenRequests
        }
        context.fireChannelRead(data)
    }

    private func arm(_ next: State) {
        state = next
        guard let deadline = next.deadline else { return }
        if let timerFires, timerFires <= deadline { return }
        schedule(at: deadline)
    }

    private func schedule(at fires: NIODeadline) {
        guard let context else { return }
        timer?.cancel()
        timerFires = fires
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: fires) { [weak self] in self?.check() }
    }

    private func check() {
        timer = nil
        timerFires = nil
        guard let bytes, let deadline = state.deadline else { return }
        if deadline > .now() { return schedule(at: deadline) }
        // The server is not reading (back-pressure): the client is not late; look again shortly.
        guard bytes.wantsBytes else { return schedule(at: .now() + .seconds(1)) }
        guard let context else { return }
        if case .head = state {
            bytes.refuse("408 Request Timeout", "The request line and headers must arrive within \(limits.headerSeconds) s.")
        } else {
            context.close(promise: nil)
        }
        state = .betweenRequests
    }
}

/// Sits first in the pipeline: tells its owner when bytes arrive and whether the channel is asking
/// for more, and writes the raw 408 when the head is late (no HTTP encoder is involved then).
final class RequestByteWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    fileprivate weak var owner: RequestDeadlineHandler?
    /// A read was asked for and nothing has arrived since.
    fileprivate private(set) var wantsBytes = false
    private var context: ChannelHandlerContext?

    fileprivate init(owner: RequestDeadlineHandler) { self.owner = owner }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        wantsBytes = false
        owner?.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        wantsBytes = true
        context.read()
    }

    fileprivate func refuse(_ status: String, _ message: String) {
        guard let context else { return }
        let body = message + "\n"
        let response = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer(string: response)))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
