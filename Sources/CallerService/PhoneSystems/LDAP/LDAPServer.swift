import LDAPProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
public import ServiceLifecycle
import Synchronization

/// The LDAP listeners of `serve --ldap-port` (and `--ldaps-port`, TLS from the first byte): a
/// swift-nio server whose connections are cut into whole BER messages (`LDAPFrameDecoder`) and
/// answered in order by `LDAPDirectory`. A malformed or oversized message closes its connection
/// with a notice of disconnection; idle connections are closed after `ldap.idleseconds`; everyone
/// else keeps being answered.
public struct LDAPServer: Service {
    let directory: LDAPDirectory
    let host: String
    /// Each listener's port, and its TLS context for LDAPS.
    let listeners: [(port: Int, tls: NIOSSLContext?)]
    /// The TLS context StartTLS switches a plain connection to, when a certificate is configured.
    var startTLS: NIOSSLContext?
    let idleSeconds: Int
    let logger: Logger
    let connections = ConnectionCount()

    /// A message larger than this closes its connection: a phone's search is a few hundred bytes.
    static let messageLimit = 64 * 1024
    /// Connections one address may hold at once (a PBX or a NAT of many phones stays well below),
    /// and all addresses together: beyond either, a new connection is told `busy` and closed.
    static let connectionsPerAddress = 256
    static let connectionLimit = 8_192

    /// The listeners `configuration` asks for (`ldap.port`, `ldap.tlsport`), or `nil` for none;
    /// throws when LDAPS lacks or cannot read its certificate or key.
    init?(directory: LDAPDirectory, configuration: ServiceConfiguration, logger: Logger) throws {
        var tls: NIOSSLContext?
        if let certificate = configuration.ldapCertificate, let key = configuration.ldapKey {
            do {
                tls = try Self.tls(certificate: certificate, key: key)
            } catch {
                throw LDAPConfigurationError("Cannot read the LDAPS certificate \(certificate) or key \(key): \(error)")
            }
        }
        var listeners: [(port: Int, tls: NIOSSLContext?)] = []
        if let port = configuration.ldapPort { listeners.append((port, nil)) }
        if let port = configuration.ldapTLSPort {
            guard let tls else { throw LDAPConfigurationError("LDAPS (ldap.tlsport) needs ldap.certificate and ldap.key, PEM files.") }
            listeners.append((port, tls))
        }
        guard !listeners.isEmpty else { return nil }
        self.init(directory: directory, host: configuration.host, listeners: listeners, idleSeconds: configuration.ldapIdleSeconds, logger: logger)
        startTLS = tls
    }

    init(directory: LDAPDirectory, host: String, listeners: [(port: Int, tls: NIOSSLContext?)], idleSeconds: Int, logger: Logger) {
        (self.directory, self.host, self.listeners, self.idleSeconds, self.logger) = (directory, host, listeners, idleSeconds, logger)
    }

    /// The TLS context of LDAPS from PEM files: the certificate chain and its private key.
    static func tls(certificate: String, key: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for listener in listeners {
                group.addTask { try await listen(port: listener.port, tls: listener.tls) }
            }
            try await group.waitForAll()
        }
    }

    private func listen(port: Int, tls: NIOSSLContext?) async throws {
        let idle = TimeAmount.seconds(Int64(idleSeconds))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LDAPFrameDecoder(limit: Self.messageLimit)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        logger.info("LDAP directory on \(tls == nil ? "ldap" : "ldaps")://\(host):\(server.channel.localAddress?.port ?? port)")
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await serve(connection, startTLS: tls == nil ? startTLS : nil) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, startTLS: NIOSSLContext?) async {
        let client = connection.channel.remoteAddress?.ipAddress ?? "-"
        guard connections.open(client, perAddress: Self.connectionsPerAddress, total: Self.connectionLimit) else {
            logger.notice("LDAP connection refused: too many", metadata: ["client": "\(client)"])
            await Self.disconnect(connection.channel, [.noticeOfDisconnection(.busy, message: "Too many connections; try again later.")])
            return
        }
        defer { connections.close(client) }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var session = LDAPSession(directory: directory, client: client, canStartTLS: startTLS != nil)
                do {
                    for try await frame in inbound {
                        let answer = await session.answer(Array(frame.readableBytesView)[...])
                        if let startTLS, answer.startTLS {
                            // The success goes out in the clear; TLS starts with the client's next byte.
                            try await Self.startTLS(connection.channel, answer.responses, context: startTLS)
                            continue
                        }
                        guard answer.keepOpen else {
                            // A notice of a malformed message reaches the client before the close.
                            await Self.disconnect(connection.channel, answer.responses)
                            return
                        }
                        if !answer.responses.isEmpty {
                            var buffer = ByteBuffer()
                            for response in answer.responses { buffer.writeBytes(response.ber) }
                            try await outbound.write(buffer)
                        }
                    }
                } catch let error as LDAPProtocolError {
                    // A frame the decoder refused (an absurd length, not an LDAPMessage).
                    logger.notice("LDAP connection closed", metadata: ["client": "\(client)", "reason": "\(error)"])
                    await Self.disconnect(connection.channel, [.noticeOfDisconnection(.protocolError, message: error.description)])
                }
            }
        } catch {
            logger.debug("LDAP connection ended", metadata: ["client": "\(client)", "error": "\(error)"])
        }
    }
}

extension LDAPServer {
    /// Writes `responses` to the socket, waits until they are written, then closes.
    static func disconnect(_ channel: any Channel, _ responses: [LDAPResponse]) async {
        for response in responses { try? await channel.writeAndFlush(ByteBuffer(bytes: response.ber)).get() }
        try? await channel.close().get()
    }

    /// Writes the StartTLS success and, on the event loop once it is written (before anything
    /// else is read), puts TLS in front of the connection.
    static func startTLS(_ channel: any Channel, _ responses: [LDAPResponse], context: NIOSSLContext) async throws {
        var buffer = ByteBuffer()
        for response in responses { buffer.writeBytes(response.ber) }
        try await channel.eventLoop.flatSubmit {
            channel.writeAndFlush(buffer).flatMapThrowing {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .first)
            }
        }.get()
    }
}

/// Open connections by address.
final class ConnectionCount: Sendable {
    private let counts = Mutex<(byAddress: [String: Int], total: Int)>(([:], 0))

    /// Counts a new connection of `address`, unless it or everyone is at the limit.
    func open(_ address: String, perAddress: Int, total: Int) -> Bool {
        counts.withLock { counts in
            guard counts.total < total, counts.byAddress[address, default: 0] < perAddress else { return false }
            counts.byAddress[address, default: 0] += 1
            counts.total += 1
            return true
        }
    }

    func close(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.byAddress[address, default: 1] - 1
            counts.byAddress[address] = left > 0 ? left : nil
        }
    }
}

/// One connection's state: who it is bound as.
struct LDAPSession {
    let directory: LDAPDirectory
    let client: String
    var binding = LDAPDirectory.Binding.anonymous
    /// Whether StartTLS is offered here: a certificate is configured and TLS has not started.
    var canStartTLS: Bool

    init(directory: LDAPDirectory, client: String, canStartTLS: Bool = false) {
        self.directory = directory
        self.client = client
        self.canStartTLS = canStartTLS
    }

    /// The StartTLS extended operation (RFC 4511 §4.14).
    static let startTLSName = "1.3.6.1.4.1.1466.20037"

    /// What to do with one message: the responses, whether the connection stays open, and
    /// whether TLS starts once they are written.
    struct Answer {
        var responses: [LDAPResponse]
        var keepOpen = true
        var startTLS = false
    }

    /// The answer to one message.
    mutating func answer(_ bytes: ArraySlice<UInt8>) async -> Answer {
        let (responses, keepOpen) = await respond(bytes)
        guard case .extended(_, .success, _, Self.startTLSName)? = responses.first else { return Answer(responses: responses, keepOpen: keepOpen) }
        canStartTLS = false
        return Answer(responses: responses, startTLS: true)
    }

    private mutating func respond(_ bytes: ArraySlice<UInt8>) async -> ([LDAPResponse], keepOpen: Bool) {
        let request: LDAPRequest
        do {
            request = try LDAPRequest(ber: bytes)
        } catch {
            return ([.noticeOfDisconnection(.protocolError, message: "\(error)")], false)
        }
        let id = request.messageID
        if let control = request.controls.first(where: { $0.critical }) {
            let message = "The critical control \(control.type.prefix(64)) is not supported."
            switch request.operation {
            case .bind: return ([.bind(messageID: id, .unavailableCriticalExtension, message: message)], true)
            case .search: return ([.searchDone(messageID: id, .unavailableCriticalExtension, message: message)], true)
            case .unbind, .abandon: break
            case .extended: return ([.extended(messageID: id, .unavailableCriticalExtension, message: message, name: nil)], true)
            case .other(let tag): return ([.refused(messageID: id, requestTag: tag, .unavailableCriticalExtension, message: message)], true)
            }
        }
        switch request.operation {
        case .bind(let version, let name, let password):
            guard version == 3 else {
                binding = .anonymous
                return ([.bind(messageID: id, .protocolError, message: "Only LDAPv3 is spoken here.")], true)
            }
            let (code, message, bound) = await directory.bind(name: name, password: password, client: client)
            binding = bound
            return ([.bind(messageID: id, code, message: message)], true)
        case .unbind:
            return ([], false)
        case .search(let search):
            do {
                return (try directory.search(search, messageID: id, binding: binding), true)
            } catch {
                // The organization's index is not built yet (a node warming up).
                return ([.searchDone(messageID: id, .busy, message: "The directory is loading; try again in a second.")], true)
            }
        case .abandon:
            // Searches are answered whole before the next message is read: nothing to abandon.
            return ([], true)
        case .extended(let name) where name == Self.startTLSName && canStartTLS:
            return ([.extended(messageID: id, .success, message: "", name: Self.startTLSName)], true)
        case .extended(let name):
            return ([.extended(messageID: id, .protocolError, message: "The extended operation \(name.prefix(64)) is not offered.", name: nil)], true)
        case .other(let tag):
            return ([.refused(messageID: id, requestTag: tag, .unwillingToPerform, message: "This directory is read-only.")], true)
        }
    }
}

/// Cuts the byte stream into whole LDAP messages; an absurd or oversized length is an error,
/// which closes the connection.
struct LDAPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let limit: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = try LDAPResponse.frameLength(of: buffer.readableBytesView, limit: limit),
            let frame = buffer.readSlice(length: length)
        else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Closes a connection that sent nothing for the idle time.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// An LDAP setting that cannot be used.
public struct LDAPConfigurationError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}
