// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "caller-lookup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "caller-lookup", targets: ["CallerLookupCLI"]),
        .library(name: "PhoneNumbers", targets: ["PhoneNumbers"]),
        .library(name: "Contacts", targets: ["Contacts"]),
        .library(name: "ContactStore", targets: ["ContactStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // System libraries (Debian packages installed by scripts/install-dependencies.sh).
        .target(
            name: "CPhoneNumbers",
            linkerSettings: [.linkedLibrary("phonenumber"), .linkedLibrary("protobuf")]
        ),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),

        // Layers, lightest first.
        .target(name: "PhoneNumbers", dependencies: ["CPhoneNumbers"]),
        .target(name: "Contacts", dependencies: ["PhoneNumbers"]),
        .target(name: "ContactStore", dependencies: ["Contacts", "CSQLite", "CCrypt"]),
        .executableTarget(
            name: "CallerLookupCLI",
            dependencies: [
                "ContactStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Tests mirror the targets; fixtures live in TestSupport.
        .target(name: "TestSupport", dependencies: ["Contacts"], path: "Tests/TestSupport",
                resources: [.copy("Fixtures")]),
        .testTarget(name: "PhoneNumbersTests", dependencies: ["PhoneNumbers"]),
        .testTarget(name: "ContactsTests", dependencies: ["Contacts", "TestSupport"]),
        .testTarget(name: "ContactStoreTests", dependencies: ["ContactStore", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
