import AsyncHTTPClient
import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// A CRM's export as a real HTTP server on a port of this machine (Hummingbird, in-process): each
/// path answers what the test set for it, and every request is counted and kept.
final class ExportServer: Sendable {
    struct Answer: Sendable {
        var status: HTTPResponse.Status = .ok
        var headers: HTTPFields = [:]
        var body: String = ""
        /// Waits this long before answering (a slow server).
        var delay: Duration = .zero
    }

    typealias Handler = @Sendable (_ request: HTTPRequest, _ count: Int) async -> Answer

    let port = LiveAPI.freePort()
    private let handlers = Mutex<[String: Handler]>([:])
    private let requests = Mutex<[HTTPRequest]>([])
    private let task = Mutex<(task: Task<Void, any Error>, group: ServiceGroup)?>(nil)

    var url: String { "http://127.0.0.1:\(port)" }

    /// Answers `path` (with its query) with `handler`, called with the request and how many
    /// requests for that path came before it.
    func on(_ path: String, _ handler: @escaping Handler) {
        handlers.withLock { $0[path] = handler }
    }

    /// Answers `path` with `answer` every time.
    func serve(_ path: String, _ answer: Answer) {
        on(path) { _, _ in answer }
    }

    /// The requests for `path` so far.
    func received(_ path: String) -> [HTTPRequest] {
        requests.withLock { $0.filter { $0.path == path } }
    }

    func start() async throws {
        let router = Router()
        router.get("**") { request, _ -> Response in
            let path = request.head.path ?? "/"
            let (handler, count): (Handler?, Int) = self.requests.withLock { requests in
                let count = requests.filter { $0.path == path }.count
                requests.append(request.head)
                return (self.handlers.withLock { $0[path] }, count)
            }
            guard let handler else { return Response(status: .notFound) }
            let answer = await handler(request.head, count)
            if answer.delay > .zero { try? await Task.sleep(for: answer.delay) }
            return Response(status: answer.status, headers: answer.headers, body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: {
            var logger = Logger(label: "export-server")
            logger.logLevel = .critical
            return logger
        }())
        // Stopped by a graceful shutdown, never by cancelling: a connection accepted while a
        // cancelled NIO server winds down traps ("Deinited NIOAsyncWriter without calling finish()").
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "export-server")))
        task.withLock { $0 = (Task { try await group.run() }, group) }
        for _ in 0..<200 {
            if (try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/ready"), timeout: .seconds(1))) != nil { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the export server did not start on port \(port)")
    }

    func stop() async {
        guard let running = task.withLock({ $0 }) else { return }
        await running.group.triggerGracefulShutdown()
        _ = await running.task.result
    }
}

/// A value a test changes while a server's handler reads it.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { value.withLock { body(&$0) } }
}
