import NIOCore
import HTTPTypes
import CallerService
import HummingbirdTesting
import SQLiteEngine
import StoreContract
import TestSupport
import Testing

@Suite struct OpenAPITests {
    /// `METHOD /path` of every operation in the document.
    static func documented() -> Set<String> {
        let text = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        var operations: Set<String> = []
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("components:") {
                path = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" })
            {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() {
        #expect(Self.documented() == Set(APIRoutes.described))
        #expect(Self.documented().count == 48)
    }

    @Test func theDocumentIsServed() async throws {
        let directory = TemporaryDirectory()
        let app = buildApplication(configuration: ServiceConfiguration(), store: try SQLiteStore(directory: directory.path))
        try await app.test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).hasPrefix("openapi: 3.1.0"))
            }
        }
    }
}
