import Foundation
import HTTPTypes
import Hummingbird
import PhoneNumbers
import StoreContract
import Synchronization

/// Who obtained a popup link: the credential the link dies with.
enum LinkHolder: Hashable, Sendable {
    /// An access token, by its id (ids are never reused).
    case token(id: Int64)
    /// A user, by login and session epoch: removing the user, a new password or signing out
    /// everywhere moves or ends the epoch, and a login created again starts at a new random one.
    case user(login: String, sessionEpoch: Int64)

    /// `t17`, or `u` + base64url(login) + `~` + epoch: no `.`, URL-safe.
    var encoded: String {
        switch self {
        case .token(let id): "t\(id)"
        case .user(let login, let epoch): "u" + Crypto.base64url(Array(login.utf8)) + "~\(epoch)"
        }
    }

    init?(encoded text: Substring) {
        if text.hasPrefix("t"), let id = Int64(text.dropFirst()), id > 0 {
            self = .token(id: id)
            return
        }
        guard text.hasPrefix("u") else { return nil }
        let parts = text.dropFirst().split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 2, let login = Crypto.unbase64url(parts[0]), !login.isEmpty, let epoch = Int64(parts[1]) else { return nil }
        self = .user(login: String(decoding: login, as: UTF8.self), sessionEpoch: epoch)
    }
}

/// The popup links of lookup answers (`X-Caller-Url`, `url=` of `?format=kv`, `url` of the JSON
/// answer, which 3CX's template reads): `BASE/popup?number=%2B420…&token=v2.…`, so an agent's click
/// opens the caller's page without a login — for that caller only, for a while, and only while the
/// credential that asked still stands.
///
/// The token is `v2.ORG.EPOCH.HOLDER.EXPIRES.MAC`: the organization, its popup epoch (rotating
/// the organization's link ends every link), the credential that looked the caller up
/// (`LinkHolder`), when the link expires (seconds since 1970: `popup.linkminutes` after the lookup,
/// rounded up to the minute), and the URL-safe base64 of HMAC-SHA256 over the rest and the
/// caller's number (`+420…`, as the link's `number` carries it: a link opens no other caller's
/// page) under a key derived from the store's secret (every node on the store signs and checks
/// alike; a mirror has no key, and its answers carry no link).
///
/// Every popup view checks the link against the store as it is now: the organization's epoch, the
/// token not revoked, the user still there with the same session epoch. Revoking, removing or
/// rotating ends the link at once, on every node.
///
/// Cost on the lookup path: one HMAC-SHA256 of about 60 bytes; the key and the organizations'
/// epochs are kept in memory (the epochs forgotten when the credentials version moves).
final class PopupLinks: Sendable {
    private let store: any RecordStore
    /// `http.publicurl`, else `nil`: `http://` and the request's `Host`.
    private let base: String?
    /// Seconds a link lives.
    private let lifetime: Int64
    private let cache = Mutex(Cache())

    private struct Cache {
        var key: [UInt8]?
        /// Organization → its current popup epoch.
        var epochs: [Int64: Int64] = [:]
    }

    init(store: any RecordStore, configuration: ServiceConfiguration) {
        self.store = store
        self.base = configuration.publicURL
        self.lifetime = Int64(max(1, configuration.popupLinkMinutes * 60))
    }

    /// The link to the caller's page for a lookup by `holder`, or `nil` when there is none to give
    /// (no number, no holder, no usable host, the store unreachable).
    func url(organization: Organization, number: PhoneNumber?, holder: LinkHolder?, request: Request) async -> String? {
        guard let number, let holder else { return nil }
        let base = Self.base(publicURL: self.base, request: request)
        let digits = String(number.rawValue)
        guard let base, let token = await token(organizationID: organization.id, holder: holder, number: "+" + digits) else { return nil }
        return base + "/popup?number=%2B" + digits + "&token=" + token
    }

    /// The base of this node's links: `http.publicurl`, else `http://` and the request's `Host`
    /// (`nil` for a `Host` with anything but a host name and port, which is never put in a link).
    static func base(publicURL: String?, request: Request) -> String? {
        publicURL ?? request.head.authority.flatMap { host in
            host.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") && $0 != UInt8(ascii: "@") }
                ? "http://\(host)" : nil
        }
    }

    /// A link token for `holder` and the caller `number` (`+420…`).
    func token(organizationID: Int64, holder: LinkHolder, number: String, now: Int64 = PopupLinks.now) async -> String? {
        let expires = (now + lifetime + 59) / 60 * 60
        var (signingKey, epoch) = cache.withLock { ($0.key, $0.epochs[organizationID]) }
        if signingKey == nil { signingKey = try? await self.signingKey() }
        if epoch == nil { epoch = try? await currentEpoch(organizationID) }
        guard let signingKey, let epoch else { return nil }
        cache.withLock { cache in
            cache.key = signingKey
            cache.epochs[organizationID] = epoch
        }
        return Self.sign(organizationID: organizationID, epoch: epoch, holder: holder, expires: expires, number: number, key: signingKey)
    }

    /// The organization a `v2.…` link token lets in now for the caller `number` (as the link's
    /// `number` carries it), or `nil`: a wrong or damaged signature, another number, an expired
    /// link, a rotated organization link, a revoked token, a removed user or one whose sessions
    /// ended. Read from the store, never from this node's memory.
    func organization(linkToken token: String, number: String, now: Int64 = PopupLinks.now) async throws -> Organization? {
        guard let parts = Self.parts(token) else { return nil }
        let expected = Self.sign(
            organizationID: parts.organizationID, epoch: parts.epoch, holder: parts.holder, expires: parts.expires, number: number,
            key: try await signingKey())
        guard Crypto.constantTimeEqual(Array(expected.utf8), Array(token.utf8)), parts.expires > now,
            try await currentEpoch(parts.organizationID) == parts.epoch
        else { return nil }
        switch parts.holder {
        case .token(let id):
            guard try await store.tokens(organizationID: parts.organizationID).contains(where: { $0.id == id && $0.revoked == nil })
            else { return nil }
        case .user(let login, let sessionEpoch):
            guard let account = try await store.user(login: login), account.organizationID == parts.organizationID,
                account.sessionEpoch == sessionEpoch
            else { return nil }
        }
        return try await store.organization(id: parts.organizationID)
    }

    /// Forgets the organizations' epochs (a rotation here or on another node).
    func forgetAll() {
        cache.withLock { $0.epochs.removeAll() }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    private func currentEpoch(_ organizationID: Int64) async throws -> Int64? {
        PopupTokenRules.popupTokenParts(try await store.popupToken(organizationID: organizationID))?.epoch
    }

    /// The links' key: derived from the store's session key (itself derived from the store's
    /// secret), under a label of its own.
    private func signingKey() async throws -> [UInt8] {
        Crypto.hmacSHA256(key: try await store.sessionKey(), Array("caller-lookup popup link v2".utf8))
    }

    static func sign(organizationID: Int64, epoch: Int64, holder: LinkHolder, expires: Int64, number: String, key: [UInt8]) -> String {
        let body = "v2." + String(organizationID) + "." + String(epoch) + "." + holder.encoded + "." + String(expires)
        var message = [UInt8]()
        message.reserveCapacity(body.utf8.count + 1 + number.utf8.count)
        message.append(contentsOf: body.utf8)
        message.append(UInt8(ascii: "|"))
        message.append(contentsOf: number.utf8)
        return body + "." + Crypto.base64url(Crypto.hmacSHA256(key: key, message))
    }

    static func parts(_ token: String) -> (organizationID: Int64, epoch: Int64, holder: LinkHolder, expires: Int64)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "v2", let id = Int64(parts[1]), let epoch = Int64(parts[2]),
            let holder = LinkHolder(encoded: parts[3]), let expires = Int64(parts[4])
        else { return nil }
        return (id, epoch, holder, expires)
    }
}
