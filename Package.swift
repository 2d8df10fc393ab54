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
        .library(name: "LookupIndex", targets: ["LookupIndex"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries (Debian packages installed by scripts/install-dependencies.sh).
        .target(
            name: "CPhoneNumbers",
            linkerSettings: [.linkedLibrary("phonenumber"), .linkedLibrary("protobuf")]
        ),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CLibCrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CMalloc"),

        // Layers, lightest first.
        .target(
            name: "PhoneNumbers",
            dependencies: ["CPhoneNumbers", .product(name: "Atomics", package: "swift-atomics")]),
        .target(name: "Contacts", dependencies: ["PhoneNumbers"]),
        .target(name: "ContactStore", dependencies: ["Contacts", "CSQLite", "CCrypt", "CLibCrypto"]),
        // The PostgreSQL engine of the store (issue 18): the same contract on a server several API
        // nodes share.
        .target(
            name: "PostgresStore",
            dependencies: [
                "ContactStore", "Contacts", .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .target(
            name: "LookupIndex",
            dependencies: [
                "Contacts",
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "HashTreeCollections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "CallerService",
            dependencies: [
                "ContactStore",
                "LookupIndex",
                "CLibCrypto",
                "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")]
        ),
        .executableTarget(
            name: "CallerLookupCLI",
            dependencies: [
                "CallerService",
                "ContactStore",
                "PostgresStore",
                "LookupIndex",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Tests mirror the targets; fixtures live in TestSupport.
        .target(name: "TestSupport", dependencies: ["Contacts"], path: "Tests/TestSupport",
                resources: [.copy("Fixtures")]),
        .target(name: "FuzzHarness", dependencies: ["Contacts"], path: "Tests/Fuzz/Harness"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness"]),
        .testTarget(name: "PhoneNumbersTests", dependencies: ["PhoneNumbers"]),
        .testTarget(name: "ContactsTests", dependencies: ["Contacts", "TestSupport"]),
        .testTarget(name: "ContactStoreTests", dependencies: ["ContactStore", "TestSupport"]),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: ["PostgresStore", "ContactStore", "TestSupport", .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .testTarget(name: "LookupIndexTests", dependencies: ["LookupIndex", "ContactStore", "TestSupport"]),
        .testTarget(
            name: "CallerServiceTests",
            dependencies: [
                "CallerService", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

// The libFuzzer executable, only when `scripts/reliability/fuzz.sh` builds it with
// `-sanitize=fuzzer,address` (libFuzzer supplies its `main`; an ordinary build could not link it).
if Context.environment["CALLER_LOOKUP_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "Fuzzer", dependencies: ["FuzzHarness"], path: "Tests/Fuzz/Fuzzer"))
    package.products.append(.executable(name: "caller-lookup-fuzz", targets: ["Fuzzer"]))
}
