import PhoneNumbers
import Testing

@Suite struct CallerNumberTests {
    let validator = PhoneNumberValidator()

    @Test(arguments: ["+420 222 333 444", "00420222333444", "420222333444", "222333444", "tel:+420-222-333-444",
                      "sip:+420222333444@pbx.example.cz;user=phone", "%2B420222333444", " +420 222 333 444 "])
    func customerFormatsFindTheStoredNumber(text: String) {
        let candidates = validator.candidates(for: CallerNumber(text), defaultRegion: "CZ")
        #expect(candidates.first?.e164 == "+420222333444")
    }

    @Test func trunkPrefixOfOtherRegions() {
        #expect(validator.candidates(for: CallerNumber("030 123456"), defaultRegion: "DE").first?.e164 == "+4930123456")
        #expect(validator.candidates(for: CallerNumber("020 7946 0958"), defaultRegion: "GB").first?.e164 == "+442079460958")
        #expect(validator.candidates(for: CallerNumber("8 (912) 345-67-89"), defaultRegion: "RU").first?.e164 == "+79123456789")
        #expect(validator.candidates(for: CallerNumber("011 420 222 333 444"), defaultRegion: "US").first?.e164 == "+420222333444")
    }

    @Test func suffixKeys() throws {
        let caller = CallerNumber("+420 222 333 444")
        let number = try #require(PhoneNumber(e164: "+420222333444"))
        #expect(caller.suffixKey(9) == CallerNumber.suffixKey(of: number, count: 9))
        #expect(CallerNumber("0222 333 444").suffixKey(9) == caller.suffixKey(9))
        #expect(CallerNumber("1234").suffixKey(9) == nil)
        // A leading zero in the suffix stays distinct.
        #expect(CallerNumber("0123456789").suffixKey(10) != CallerNumber("123456789").suffixKey(10))
    }

    @Test func garbageHasNoCandidates() {
        #expect(validator.candidates(for: CallerNumber(""), defaultRegion: "CZ").isEmpty)
        #expect(validator.candidates(for: CallerNumber("anonymous"), defaultRegion: "CZ").isEmpty)
        #expect(validator.candidates(for: CallerNumber(String(repeating: "1", count: 50)), defaultRegion: "CZ").isEmpty)
    }
}
