import Contacts
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import LookupIndex
import NIOCore
import PhoneNumbers
import StoreContract

/// Every authenticated route, in one table: the server registers it, and a test checks it against
/// the OpenAPI document in both directions.
public enum APIRoutes {
    struct Route {
        typealias Handler = @Sendable (Request, CallerRequestContext) async throws -> Response
        let method: HTTPRequest.Method
        /// Below `/v3/`, with `{parameter}` segments as in the OpenAPI document.
        let path: String
        /// What an access token needs to use the route: `lookup` for reads, `write` for the
        /// single-contact writes, `admin` for the upload, labels and tokens.
        let scope: AccessScope
        let handler: @Sendable (Handlers) -> Handler
        /// A lookup route's handler, which mirrors serve too.
        let lookupHandler: (@Sendable (LookupHandlers) -> Handler)?

        /// A route whose scope is `lookup` for `GET`, `write` otherwise, unless `scope` says.
        init(
            method: HTTPRequest.Method, path: String, scope: AccessScope? = nil, handler: @escaping @Sendable (Handlers) -> Handler
        ) {
            self.method = method
            self.path = path
            self.scope = scope ?? (method == .get ? .lookup : .write)
            self.handler = handler
            self.lookupHandler = nil
        }

        init(method: HTTPRequest.Method, path: String, lookup: @escaping @Sendable (LookupHandlers) -> Handler) {
            self.method = method
            self.path = path
            self.scope = .lookup
            self.handler = { lookup($0.lookups) }
            self.lookupHandler = lookup
        }
    }

    static let all: [Route] = [
            Route(method: .post, path: "contacts/upload", scope: .admin, handler: { $0.upload }),
            Route(method: .get, path: "contacts/validator/phone-number/{phoneNumber}", handler: { $0.validate }),
            Route(method: .get, path: "contacts/lookup/{phoneNumber}", lookup: { $0.lookup }),
            Route(method: .get, path: "contacts/lookup", lookup: { $0.lookupByQuery }),
            Route(method: .get, path: "contacts/route/{phoneNumber}", lookup: { $0.route }),
            Route(method: .get, path: "contacts/route", lookup: { $0.route }),
            Route(method: .get, path: "contacts/name/{phoneNumber}", lookup: { $0.name }),
            Route(method: .get, path: "contacts/name", lookup: { $0.name }),
            Route(method: .get, path: "phonebook/yealink.xml", lookup: { $0.phonebook(.yealink) }),
            Route(method: .get, path: "phonebook/grandstream.xml", lookup: { $0.phonebook(.grandstream) }),
            // Grandstream firmware that appends /phonebook.xml to its configured path.
            Route(method: .get, path: "phonebook/grandstream/phonebook.xml", lookup: { $0.phonebook(.grandstream) }),
            // … and the same with the number format in the path, where no query can go.
            Route(method: .get, path: "phonebook/grandstream/{numfmt}/phonebook.xml", lookup: { $0.phonebook(.grandstream) }),
            Route(method: .get, path: "phonebook/cisco.xml", lookup: { $0.phonebook(.cisco) }),
            Route(method: .get, path: "phonebook/snom.xml", lookup: { $0.phonebook(.snom) }),
            Route(method: .get, path: "integrations/3cx.xml", handler: { $0.threeCXTemplate }),
            Route(method: .get, path: "contacts/changes", handler: { $0.changes }),
            Route(method: .get, path: "contacts/snapshot", handler: { $0.snapshot }),
            Route(method: .get, path: "contacts/export", scope: .write, handler: { $0.export }),
            Route(method: .get, path: "whoami", handler: { $0.whoami }),
            Route(method: .patch, path: "organization", scope: .admin, handler: { $0.updateOrganization }),
            Route(method: .get, path: "labels", handler: { $0.labels }),
            Route(method: .put, path: "labels", scope: .admin, handler: { $0.setLabels }),
            Route(method: .get, path: "tokens", scope: .admin, handler: { $0.listTokens }),
            Route(method: .post, path: "tokens", scope: .admin, handler: { $0.createToken }),
            Route(method: .delete, path: "tokens/{id}", scope: .admin, handler: { $0.revokeToken }),
            Route(method: .get, path: "popup-link", scope: .admin, handler: { $0.popupLink }),
            Route(method: .post, path: "popup-link/rotate", scope: .admin, handler: { $0.rotatePopupLink }),
            Route(method: .get, path: "sync", scope: .admin, handler: { $0.listSyncSources }),
            Route(method: .post, path: "sync", scope: .admin, handler: { $0.addSyncSource }),
            Route(method: .delete, path: "sync/{id}", scope: .admin, handler: { $0.removeSyncSource }),
            Route(method: .post, path: "sync/{id}/run", scope: .admin, handler: { $0.runSyncSource }),
            Route(method: .get, path: "sync/{id}/runs", scope: .admin, handler: { $0.syncRuns }),
            Route(method: .get, path: "users", scope: .admin, handler: { $0.listUsers }),
            Route(method: .post, path: "users", scope: .admin, handler: { $0.addUser }),
            Route(method: .patch, path: "users/{login}", scope: .admin, handler: { $0.updateUser }),
            Route(method: .delete, path: "users/{login}", scope: .admin, handler: { $0.removeUser }),
            Route(method: .get, path: "contacts", handler: { $0.listContacts }),
            Route(method: .post, path: "contacts", handler: { $0.createContact }),
            Route(method: .post, path: "contacts/batch", handler: { $0.batch }),
            Route(method: .put, path: "contacts/external/{externalId}", handler: { $0.upsertExternal }),
            Route(method: .get, path: "contacts/{id}", handler: { $0.getContact }),
            Route(method: .put, path: "contacts/{id}", handler: { $0.replaceContact }),
            Route(method: .patch, path: "contacts/{id}", handler: { $0.patchContact }),
            Route(method: .delete, path: "contacts/{id}", handler: { $0.deleteContact }),
        ]

    /// The query parameters each route takes, by `METHOD /path`; any other is refused with 400.
    public static let queries: [String: [String]] = [
        "GET /popup": ["number", "token"],
        "GET /v3/contacts/validator/phone-number/{phoneNumber}": ["region"],
        "GET /v3/contacts/lookup": ["email", "number", "format"],
        "GET /v3/contacts/lookup/{phoneNumber}": ["format"],
        "GET /v3/contacts/route/{phoneNumber}": ["format"],
        "GET /v3/contacts/route": ["number", "format"],
        "GET /v3/contacts/name/{phoneNumber}": ["maxlen", "ascii", "fallback", "format"],
        "GET /v3/contacts/name": ["number", "maxlen", "ascii", "fallback", "format"],
        "GET /v3/contacts/changes": ["since", "wait", "limit"],
        "GET /v3/contacts": ["after", "limit"],
        "POST /v3/contacts/upload": ["dryRun"],
        "GET /v3/phonebook/yealink.xml": ["numfmt"],
        "GET /v3/phonebook/grandstream.xml": ["numfmt"],
        "GET /v3/phonebook/grandstream/phonebook.xml": ["numfmt"],
        "GET /v3/phonebook/grandstream/{numfmt}/phonebook.xml": [],
        "GET /v3/phonebook/cisco.xml": ["numfmt"],
        "GET /v3/phonebook/snom.xml": ["numfmt"],
    ]

    /// `METHOD /path` of the lookup routes, which mirrors serve too.
    static var lookupDescribed: [String] {
        all.filter { $0.lookupHandler != nil }.map { "\($0.method.rawValue) /v3/\($0.path)" }
    }

    /// `METHOD /path` of every route the server answers, authenticated or not.
    public static var described: [String] {
        ["GET /health", "GET /metrics", "GET /openapi.yaml", "GET /popup"]
            + all.map { "\($0.method.rawValue) /v3/\($0.path)" }
    }
}

/// The OpenAPI 3.1 document of the whole API (`Resources/openapi.yaml`), served at `/openapi.yaml`.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return Array("openapi: 3.1.0\n# the document was not installed with the binary\n".utf8) }
        return Array(data)
    }()
}

/// The route handlers: thin, each a call into the layers below.
struct Handlers: Sendable {
    let state: ServiceState

    var lookups: LookupHandlers { LookupHandlers(indexes: state.indexes, metrics: state.metrics, links: state.popupLinks) }

    func organization(_ context: CallerRequestContext) throws -> Organization {
        try context.requireOrganization()
    }
}
