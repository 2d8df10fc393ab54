import Contacts
@testable import LookupIndex
import PhoneNumbers
import Testing

@Suite struct CallerLookupTests {
    static let regions = ["CZ", "SK", "DE", "AT", "PL", "GB", "US", "CA", "FR", "IT", "ES", "NL", "BE", "CH", "SE", "NO",
                          "DK", "FI", "HU", "RU", "UA", "BR", "MX", "AR", "AU", "JP", "CN", "IN", "ZA", "IL", "NZ", "SG"]
    let validator = PhoneNumberValidator()

    func contact(_ number: PhoneNumber, id: Int64) -> StoredContact {
        var values = [String](repeating: "", count: ContactField.allCases.count)
        values[ContactField.lastName.index] = "Contact \(id)"
        values[ContactField.phone1.index] = number.e164
        return StoredContact(id: id, version: 1, contact: Contact(trustedValues: values)!)
    }

    /// The ways a PBX writes a caller's number, from the caller's own region's point of view.
    func messyForms(of number: PhoneNumber, region: String) -> [String] {
        let international = validator.format(number, as: .international)!
        let national = validator.format(number, as: .national)!
        let countryCode = validator.validate(number.e164).validNumber!.countryCode
        let nationalDigits = String(number.rawValue).dropFirst(String(countryCode).count)
        let idd = DialingPlan.installed[region]!.internationalPrefixes.last!.map(String.init).joined()
        return [
            number.e164, international, national, validator.format(number, as: .rfc3966)!,
            "tel:" + number.e164 + ";phone-context=example", "++" + number.e164.dropFirst(),
            idd + String(number.rawValue), idd + " " + international.dropFirst(),
            String(number.rawValue), national.replacingSeparators(), "  " + international + " ",
            "+\(countryCode) (0) \(nationalDigits)",
        ]
    }

    @Test func messyNumbersOfManyRegionsResolveAsLibphonenumberParsesThem() throws {
        var fastHits = 0
        var total = 0
        for region in Self.regions {
            let numbers = [PhoneNumberType.fixedLine, .mobile].compactMap { validator.exampleNumber(region: region, type: $0) }
            #expect(!numbers.isEmpty, "\(region) has example numbers")
            let snapshot = IndexSnapshot.build(numbers.enumerated().map { contact($1, id: Int64($0 + 1)) }, version: 1)
            let lookup = try #require(CallerLookup(region: region))
            let normalizer = try #require(CallerNumberNormalizer(region: region))
            for number in numbers {
                for text in messyForms(of: number, region: region) {
                    // The oracle: libphonenumber's own full parse with the region as default.
                    let oracle = validator.validate(text, defaultRegion: region)
                    guard case .valid(let parsed) = oracle else { continue }
                    // The "(0)" form is not parsed alike by libphonenumber in every region; where it
                    // is not, the oracle reads another number and the lookup must not find ours exactly.
                    let result = lookup.lookUp(text, in: snapshot)
                    if parsed.number == number {
                        #expect(result.match == .exact && result.normalized == number, "\(region): \(text.debugDescription)")
                    }
                    total += 1
                    if normalizer.normalize(text).first == parsed.number { fastHits += 1 }
                }
            }
        }
        // The fast path alone reads nearly all of them; the rest go through the fallback.
        #expect(Double(fastHits) / Double(total) > 0.9, "fast path resolved \(fastHits) of \(total)")
    }

    @Test func customersFormsFindTheCustomersContact() throws {
        let number = PhoneNumber(e164: "+420222333444")!
        let snapshot = IndexSnapshot.build([contact(number, id: 1)], version: 7)
        let lookup = try #require(CallerLookup(region: "CZ"))
        for text in ["+420 222 333 444", "00420222333444", "420222333444", "222333444", "tel:+420-222-333-444",
                     "+420 (0) 222 333 444", "sip:+420222333444@pbx;user=phone"] {
            let result = lookup.lookUp(text, in: snapshot)
            #expect(result.match == .exact, "\(text)")
            #expect(result.normalized == number)
        }
        let viaSuffix = lookup.lookUp("+1 222 333 444", in: snapshot)
        #expect(viaSuffix.match == .suffix)
        #expect(viaSuffix.matches.count == 1)
        let unknown = lookup.lookUp("+420 999 888 777", in: snapshot)
        #expect(unknown.match == .none)
        #expect(unknown.json.hasPrefix(#"{"number":"+420 999 888 777","normalized":"+420999888777","match":"none","version":7,"labels":{},"contacts":[]}"#))
        for garbage in ["", "anonymous", "+", String(repeating: "9", count: 200), "\u{0}", "tel:", "😀"] {
            #expect(lookup.lookUp(garbage, in: snapshot).match != .exact)
        }
    }

    @Test func normalizerReadsTrunkAndIDDPrefixes() throws {
        let de = try #require(CallerNumberNormalizer(region: "DE"))
        #expect(de.normalize("030 123456").first?.e164 == "+4930123456")
        #expect(de.normalize("0049 30 123456").first?.e164 == "+4930123456")
        let us = try #require(CallerNumberNormalizer(region: "US"))
        #expect(us.normalize("011 420 222 333 444").first?.e164 == "+420222333444")
        #expect(us.normalize("1 (212) 555-0100").first?.e164 == "+12125550100")
        let ru = try #require(CallerNumberNormalizer(region: "RU"))
        #expect(ru.normalize("8 (912) 345-67-89").first?.e164 == "+79123456789")
        #expect(ru.normalize("810 420 222333444").first?.e164 == "+420222333444")
        let cz = try #require(CallerNumberNormalizer(region: "CZ"))
        #expect(cz.normalize("222333444").suffixKey(9) == CallerNumber.suffixKey(of: PhoneNumber(e164: "+420222333444")!, count: 9))
        #expect(cz.normalize(String(repeating: "1", count: 40)).count == 0)
    }
}

extension String {
    fileprivate func replacingSeparators() -> String {
        String(map { $0 == " " ? "-" : $0 })
    }
}
