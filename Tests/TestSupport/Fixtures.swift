import Foundation

/// The customer's own sample files (SPEC §4), byte for byte.
public enum Fixtures {
    public static func bytes(_ name: String) -> [UInt8] {
        let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
        return Array(try! Data(contentsOf: url))
    }

    public static var minimalCSV: [UInt8] { bytes("minimal.csv") }
    public static var maximalCSV: [UInt8] { bytes("maximal.csv") }
}
