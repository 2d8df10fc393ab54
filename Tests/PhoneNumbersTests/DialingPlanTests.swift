@testable import PhoneNumbers
import Testing

@Suite struct DialingPlanTests {
    let plan = DialingPlan.installed

    @Test func czechAndOthers() throws {
        let cz = try #require(plan["CZ"])
        #expect(cz.countryCode == 420)
        #expect(cz.internationalPrefixes == [[0, 0]])
        #expect(cz.trunkPrefixes.isEmpty)
        let us = try #require(plan["us"])
        #expect(us.internationalPrefixes.contains([0, 1, 1]))
        #expect(us.trunkPrefixes == [[1]])
        #expect(plan["DE"]?.trunkPrefixes == [[0]])
        #expect(plan["RU"]?.trunkPrefixes == [[8]])
        #expect(plan["RU"]?.internationalPrefixes.contains([8, 1, 0]) == true)
    }

    @Test func coversEveryRegion() {
        #expect(plan.regions.count > 240)
        let withoutIDD = plan.regions.values.filter { $0.internationalPrefixes.isEmpty && $0.region != "001" }.map(\.region)
        #expect(withoutIDD.count < 5, "IDD patterns that did not expand: \(withoutIDD.sorted())")
    }

    @Test func digitPatterns() {
        #expect(DigitPattern.expand("00") == [[0, 0]])
        #expect(Set(DigitPattern.expand("0(?:0|1[0-2])")!) == [[0, 0], [0, 1, 0], [0, 1, 1], [0, 1, 2]])
        #expect(Set(DigitPattern.expand("8~10")!) == [[8, 1, 0]])
        #expect(Set(DigitPattern.expand("[78]?0")!) == [[0], [7, 0], [8, 0]])
        #expect(DigitPattern.expand("0\\d{2}")?.count == 100)
        #expect(DigitPattern.expand("0+") == nil)
        #expect(DigitPattern.expand("(0") == nil)
    }
}
