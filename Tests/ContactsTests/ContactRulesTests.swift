import Contacts
import PhoneNumbers
import Testing

@Suite struct ContactRulesTests {
    let validator = PhoneNumberValidator()

    func violations(_ draft: [ContactField: String]) -> [ContactRuleViolation] {
        switch Contact.validate(draft, validator: validator) {
        case .success: []
        case .failure(let failure): failure.violations
        }
    }

    @Test func smallestContact() throws {
        let contact = try Contact.validate([.lastName: " Novák ", .phone1: "+420 222 333 444"], validator: validator).get()
        #expect(contact[.lastName] == "Novák")
        #expect(contact[.phone1] == "+420222333444")
        #expect(contact.phone1.e164 == "+420222333444")
        #expect(contact.phone2 == nil)
        #expect(contact.displayName == "Novák")
    }

    @Test func displayName() throws {
        let person = try Contact.validate([.firstName: "Jan", .lastName: "Novák", .organization: "IPEX a.s.", .phone1: "+420222333444"], validator: validator).get()
        #expect(person.displayName == "Jan Novák")
        let company = try Contact.validate([.organization: "IPEX a.s.", .phone1: "+420222333444"], validator: validator).get()
        #expect(company.displayName == "IPEX a.s.")
    }

    @Test func aNameIsRequired() {
        let found = violations([.phone1: "+420222333444", .email: "a@b.cz", .firstName: "   "])
        #expect(found.map(\.rule) == [.missingName])
        #expect(found[0].message == "Columns firstName, lastName, organization: all are empty; at least one is required.")
    }

    @Test func phone1IsRequired() {
        let found = violations([.lastName: "Novák", .phone2: "+420777711100"])
        #expect(found.map(\.rule) == [.required])
        #expect(found[0].message == "Column phone1: a value is required.")
    }

    @Test func invalidPhoneMessageIsTheContractsWording() {
        let found = violations([.lastName: "Novák", .phone1: "+42022233"])
        #expect(found.map(\.message) == ["Column phone1: '+42022233' is not a valid phone number."])
        #expect(found.first?.rule == .invalidPhoneNumber(.tooShort))
        #expect(violations([.lastName: "Novák", .phone1: "+420222333444", .phone2: "777711100"]).first?.rule
            == .invalidPhoneNumber(.notInternational))
    }

    @Test func lengthsCountUnicodeScalars() {
        // "č" is two UTF-8 bytes but one scalar: 255 are fine, 256 are not.
        #expect(violations([.lastName: String(repeating: "č", count: 255), .phone1: "+420222333444"]).isEmpty)
        let found = violations([.lastName: String(repeating: "č", count: 256), .phone1: "+420222333444"])
        #expect(found.map(\.rule) == [.tooLong(maxLength: 255, length: 256)])
        #expect(violations([.lastName: "x", .agent1: String(repeating: "ř", count: 55), .phone1: "+420222333444"]).isEmpty)
        #expect(violations([.lastName: "x", .customField6: String(repeating: "ř", count: 56), .phone1: "+420222333444"])
            .map(\.rule) == [.tooLong(maxLength: 55, length: 56)])
    }

    @Test func lengthIsMeasuredAfterTrimming() {
        #expect(violations([.agent1: "  " + String(repeating: "a", count: 55) + "  ", .lastName: "x", .phone1: "+420222333444"]).isEmpty)
    }

    @Test(arguments: ["jan@novak.com", "jan.novak+crm@mail.example.cz", "o'brien@example.ie", "žluťoučký@kůň.cz", "a@b.co"])
    func validEmails(email: String) {
        #expect(violations([.lastName: "x", .phone1: "+420222333444", .email: email]).isEmpty)
    }

    @Test(arguments: ["jan", "jan@", "@novak.com", "jan@@novak.com", "jan@novak", "jan novak@x.cz", "jan..n@x.cz",
                      ".jan@x.cz", "jan@-x.cz", "jan@x..cz", "jan@x.123", "\"jan\"@x.cz", "jan@[1.2.3.4]"])
    func invalidEmails(email: String) {
        #expect(violations([.lastName: "x", .phone1: "+420222333444", .email: email]).map(\.rule) == [.invalidEmail])
    }

    @Test(arguments: ["https://nase.aplikace.cz/account/12123", "http://crm.local:8080/a?b=c#d", "HTTPS://X.CZ",
                      "https://[::1]:8443/x", "https://user@crm.example.cz/ú"])
    func validURIs(uri: String) {
        #expect(violations([.lastName: "x", .phone1: "+420222333444", .nameUri: uri]).isEmpty)
    }

    @Test(arguments: ["javascript:alert(1)", "ftp://x.cz/a", "//x.cz/a", "nase.aplikace.cz/account", "https://",
                      "https:///path", "https://x.cz/a b", "data:text/html,<b>", "https://x.cz:99999/", "https://x.cz/<script>"])
    func invalidURIs(uri: String) {
        #expect(violations([.lastName: "x", .phone1: "+420222333444", .customField3Uri: uri]).map(\.rule) == [.invalidURI])
    }

    @Test func everyViolationOfARowIsReported() {
        let found = violations([.phone1: "+1", .email: "x", .organizationUri: "ftp://a"])
        #expect(found.count == 4)
        #expect(found.first?.rule == .missingName)
    }

    @Test func valuesInMessagesStayOnOneLine() {
        let found = violations([.lastName: "x", .phone1: "+420\n222"])
        #expect(found.first?.message == "Column phone1: '+420\\n222' is not a valid phone number.")
    }
}
