import Foundation
import FuzzHarness
import Testing

/// Every seed and every input a fuzzer found (`Tests/Fuzz/corpus`, `Tests/Fuzz/regressions`), run
/// through the same harness as the libFuzzer targets, so a fixed crash stays fixed.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func inputs(_ target: FuzzHarness.Target) -> [(name: String, bytes: [UInt8])] {
        ["corpus", "regressions"].flatMap { folder -> [(name: String, bytes: [UInt8])] in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            return names.sorted().compactMap { name in
                guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { return nil }
                return ("\(folder)/\(target.rawValue)/\(name)", Array(data))
            }
        }
    }

    @Test(arguments: FuzzHarness.Target.allCases)
    func seedsAndFoundInputsPass(_ target: FuzzHarness.Target) {
        let inputs = Self.inputs(target)
        #expect(inputs.count >= 5, "the seed corpus of \(target.rawValue) is missing")
        for input in inputs {
            #expect(FuzzHarness.run(target, input.bytes) == nil, "\(input.name)")
        }
    }
}
