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

    @Test(arguments: ["", "+", "420222333444", "+0420", "+1234567890123456", "+42a", " +420"])
    func rejectsNonE164(text: String) {
        #expect(PhoneNumber(e164: text) == nil)
    }

    @Test func maximumLength() {
        #expect(PhoneNumber(e164: "+999999999999999")?.digitCount == 15)
        #expect(PhoneNumber(rawValue: 0) == nil)
        #expect(PhoneNumber(rawValue: PhoneNumber.maximumRawValue + 1) == nil)
    }
}
