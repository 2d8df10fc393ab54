import PhoneNumbers
import Testing

@Suite struct PhoneNumberValidatorTests {
    let validator = PhoneNumberValidator()

    @Test func customerNumbersAreValid() throws {
        let number = try #require(validator.validateInternational("+420222333444").validNumber)
        #expect(number.number.e164 == "+420222333444")
        #expect(number.region == "CZ")
        #expect(number.countryCode == 420)
        #expect(number.type == .fixedLine)
        let mobile = try #require(validator.validateInternational("+420777711100").validNumber)
        #expect(mobile.type == .mobile)
    }

    @Test(arguments: [
        ("+420 222 333 444", "+420222333444"),
        ("+420-222-333-444", "+420222333444"),
        ("+420.222.333.444", "+420222333444"),
        ("+420 (222) 333 444", "+420222333444"),
        ("+49 30 123456", "+4930123456"),
        ("+1 212-555-0100", "+12125550100"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+421 905 123 456", "+421905123456"),
    ])
    func separatorsAreTolerated(text: String, e164: String) {
        #expect(validator.validateInternational(text).validNumber?.number.e164 == e164)
    }

    @Test(arguments: [
        ("+42022233", InvalidPhoneNumberReason.tooShort),
        ("+4202223334445555", .tooLong),
        ("+999 222 333 444", .invalidCountryCode),
        ("222333444", .notInternational),
        ("00420222333444", .notInternational),
        ("", .notANumber),
        ("   ", .notANumber),
        ("abc", .notANumber),
        ("+420 222 333 444 ext. 5", .notANumber),
        ("+420 222 3+33 444", .notANumber),
        ("+420 922 333 444", .invalidForRegion),
    ])
    func invalidNumbersSayWhy(text: String, reason: InvalidPhoneNumberReason) {
        guard case .invalid(let actual, _) = validator.validateInternational(text) else {
            Issue.record("\(text) should be invalid")
            return
        }
        #expect(actual == reason)
    }

    @Test func garbageNeverCrashes() {
        let inputs = ["\0", "+420\0222333444", String(repeating: "9", count: 10_000), "+", "++", "+ ", "😀",
                      "+4\u{0301}20", "tel:", String(repeating: "+", count: 500)]
        for input in inputs {
            if case .valid = validator.validate(input, defaultRegion: "CZ") {
                Issue.record("\(input.debugDescription) must not be valid")
            }
            _ = validator.validateInternational(input)
        }
    }

    @Test func embeddedNULIsRefused() {
        #expect(validator.validate("+420222333444\0", defaultRegion: nil).validNumber == nil)
    }

    @Test func defaultRegionReadsNationalNumbers() {
        #expect(validator.validate("222 333 444", defaultRegion: "CZ").validNumber?.number.e164 == "+420222333444")
        #expect(validator.validate("030 123456", defaultRegion: "DE").validNumber?.number.e164 == "+4930123456")
        #expect(validator.validate("(212) 555-0100", defaultRegion: "us").validNumber?.number.e164 == "+12125550100")
    }

    @Test func formats() throws {
        let number = try #require(PhoneNumber(e164: "+420222333444"))
        #expect(validator.format(number, as: .e164) == "+420222333444")
        #expect(validator.format(number, as: .international) == "+420 222 333 444")
        #expect(validator.format(number, as: .national) == "222 333 444")
        #expect(validator.format(number, as: .rfc3966) == "tel:+420-222-333-444")
    }

    @Test func sharedCountryCodesGetTheirRegion() {
        #expect(validator.validateInternational("+1 416 555 0123").validNumber?.region == "CA")
        #expect(validator.validateInternational("+1 212 555 0100").validNumber?.region == "US")
        #expect(validator.validateInternational("+7 701 123 4567").validNumber?.region == "KZ")
        #expect(validator.validateInternational("+7 912 345 6789").validNumber?.region == "RU")
    }

    @Test func countryCodeForRegion() {
        #expect(validator.countryCode(forRegion: "CZ") == 420)
        #expect(validator.countryCode(forRegion: "sk") == 421)
        #expect(validator.countryCode(forRegion: "XX") == nil)
    }

    @Test func reportJSON() {
        let valid = PhoneNumberReport(verdict: validator.validateInternational("+420222333444"), validator: validator)
        #expect(valid.json == #"{"valid":true,"reason":null,"e164":"+420222333444","international":"+420 222 333 444","national":"222 333 444","region":"CZ","type":"FIXED_LINE"}"#)
        let invalid = PhoneNumberReport(verdict: validator.validateInternational("+42022233"), validator: validator)
        #expect(invalid.json.hasPrefix(#"{"valid":false,"reason":"too short""#))
    }
}
