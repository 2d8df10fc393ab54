import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import StoreContract

/// Where and how a `PostgresStore` connects, from its URL; and, when the pool gives no connection,
/// why: one direct connection with the same settings names the cause (the pool only retries).
struct ConnectionSettings: Sendable {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String?
    let tls: (tls: PostgresClient.Configuration.TLS, verification: CertificateVerification?, direct: (TLSConfiguration, required: Bool)?)
    let hasRootCertificate: Bool

    var client: PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls.tls)
    }

    /// Why no connection can be had, for a person: tries one (within 3 s) and names what failed —
    /// nothing listening, the database, the login, the certificate — with what to change.
    func diagnose(logger: Logger) async -> String {
        let connectionTLS: PostgresConnection.Configuration.TLS
        do {
            switch tls.direct {
            case nil: connectionTLS = .disable
            case (let configuration, false)?: connectionTLS = .prefer(try NIOSSLContext(configuration: configuration))
            case (let configuration, true)?: connectionTLS = .require(try NIOSSLContext(configuration: configuration))
            }
        } catch {
            return "its TLS settings cannot be used (\(error)); check sslrootcert"
        }
        let configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: connectionTLS)
        do {
            let connection = try await withThrowingTaskGroup(of: PostgresConnection?.self) { group in
                group.addTask { try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger) }
                group.addTask {
                    try await Task.sleep(for: .seconds(3))
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            guard let connection else { return "\(host):\(port) does not answer within 3 s (a firewall dropping the connection?)" }
            try? await connection.close()
            return "a direct connection works now (the server was busy or restarting)"
        } catch {
            return cause(of: error)
        }
    }

    /// The cause of a failed connection, and what to change.
    func cause(of error: any Error) -> String {
        if let error = error as? PSQLError {
            switch error.serverInfo?[.sqlState] {
            case "3D000"?:
                return "the database '\(database ?? user)' does not exist at \(host):\(port) (create it, or correct the URL's path)"
            case "28P01"?, "28000"?:
                return "authentication failed for the user '\(user)' at \(host):\(port) (the password comes from the URL, PGPASSWORD or ~/.pgpass; pg_hba.conf may refuse the login)"
            case let state?:
                return error.serverInfo?[.message] ?? "the server answered \(state)"
            case nil:
                if let underlying = error.underlying { return cause(of: underlying) }
            }
        }
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return hasRootCertificate
                ? "the server's certificate is not signed by the sslrootcert given, or does not name \(host)"
                : "the server's certificate cannot be verified: add &sslrootcert=FILE (the certificate of the CA that signed it) to the URL, or use sslmode=require to encrypt without checking it"
        }
        if text.contains("refused") || text.contains("ECONNREFUSED") {
            return "nothing accepts connections at \(host):\(port) (connection refused): is PostgreSQL running there, and listening on that address?"
        }
        if text.lowercased().contains("getaddrinfo") || text.contains("unknown host") || text.contains("Name or service not known") {
            return "the host name '\(host)' cannot be resolved"
        }
        if text.contains("sslUnsupported") || text.contains("does not support TLS") {
            return "the server does not offer TLS, which sslmode requires (use sslmode=prefer, or turn ssl on in postgresql.conf)"
        }
        return text
    }
}
