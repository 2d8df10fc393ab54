import PhoneNumbers
import Testing

@Suite struct PhoneNumberTests {
    @Test func packsE164Digits() throws {
        let number = try #require(PhoneNumber(e164: "+420222333444"))
        #expect(number.rawValue == 420_222_333_444)
        #expect(number.e164 == "+420222333444")
        #expect(number.digitCount == 12)
        #expect(PhoneNumber(rawValue: 420_222_333_444) == number)
    }

    @Test(arguments: ["", "+", "420222333444", "+0420", "+12345678901234567890", "+42a", " +420"])
    func rejectsNonE164(text: String) {
        #expect(PhoneNumber(e164: text) == nil)
    }

    /// libphonenumber calls numbers of up to 19 digits valid (`+81` with 17 national digits): E.164's
    /// 15 is not the limit.
    @Test func maximumLength() {
        #expect(PhoneNumber(e164: "+999999999999999")?.digitCount == 15)
        #expect(PhoneNumber(e164: "+4980012345678908")?.rawValue == 4_980_012_345_678_908)
        #expect(PhoneNumber(e164: "+9999999999999999999")?.rawValue == PhoneNumber.maximumRawValue)
        #expect(PhoneNumber(e164: "+9999999999999999999")?.digitCount == PhoneNumber.maximumDigits)
        #expect(PhoneNumber(e164: "+10000000000000000000") == nil)
        #expect(PhoneNumber(rawValue: 0) == nil)
        #expect(PhoneNumber(rawValue: PhoneNumber.maximumRawValue + 1) == nil)
    }
}
