import Contacts
import PhoneNumbers
import Testing

@testable import LookupIndex

@Suite struct ContactRecordTests {
    /// The presence mask is 3 bytes: every field but the two phones must have a bit.
    @Test func everyFieldHasAPresenceBit() {
        #expect(ContactRecord.fieldCount == ContactField.allCases.count)
        #expect(ContactRecord.fieldCount <= ContactRecord.presenceBits)
    }

    /// Every field set, the longest numbers: a record decodes to the same values.
    @Test func aFullRecordRoundTrips() throws {
        var values = ContactField.allCases.map { "\($0.rawValue) ✓" }
        values[ContactField.phone1.index] = "+4980012345678908"
        values[ContactField.phone2.index] = "+9999999999999999999"
        values[ContactField.email.index] = "jan@novak.com"
        let contact = try #require(Contact(trustedValues: values))
        let snapshot = IndexSnapshot.build([StoredContact(id: 7, version: 3, contact: contact)], version: 3)
        #expect(snapshot.allContacts() == [StoredContact(id: 7, version: 3, contact: contact)])
        #expect(snapshot.contacts(withNumber: try #require(PhoneNumber(e164: "+9999999999999999999"))).count == 1)
    }
}
