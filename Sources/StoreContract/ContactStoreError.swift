import Contacts

/// A store operation that could not be done, with a message that says what to do.
public struct ContactStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case notFound
        case duplicateExternalId
        case organizationExists
        case unknownOrganization
        case loginTaken
        case unknownRegion
        case invalidInput
        /// The store cannot be reached just now (its server is down, its file is locked): nothing
        /// was changed, and trying again later may succeed.
        case unavailable
        case database
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
