import Foundation
import HTTPTypes
import SQLiteEngine
import StoreContract
import TestSupport

/// A store with two organizations: IPEX (user novak) and Jiná (user cizi), both in CZ.
struct ServiceFixture {
    let directory = TemporaryDirectory()
    let store: SQLiteStore

    init() throws {
        store = try SQLiteStore(directory: directory.path)
        let ipex = try store.createOrganization(name: "IPEX", defaultRegion: "CZ")
        try store.addUser(login: "novak", password: "hesloNovak", organizationID: ipex.id)
        let other = try store.createOrganization(name: "Jiná", defaultRegion: "CZ")
        try store.addUser(login: "cizi", password: "hesloCizi1", organizationID: other.id)
    }

    static func basic(_ login: String, _ password: String) -> String {
        "Basic " + Data("\(login):\(password)".utf8).base64EncodedString()
    }
}
