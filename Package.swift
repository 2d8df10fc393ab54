// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "caller-lookup",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "caller-lookup", targets: ["CallerLookupCLI"]),
        .library(name: "PhoneNumbers", targets: ["PhoneNumbers"]),
        .library(name: "Contacts", targets: ["Contacts"]),
        .library(name: "StoreContract", targets: ["StoreContract"]),
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
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
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
            dependencies: ["CPhoneNumbers", .product(name: "Atomics", package: "swift-atomics")],
            // libphonenumber's current metadata as data (scripts/update-number-plan.sh).
            resources: [.copy("Resources/number-plan.txt")]),
        .target(name: "Contacts", dependencies: ["PhoneNumbers"]),
        // Worker threads, leaving Swift's cooperative pool, and blocking waits for threads of our own.
        .target(name: "ThreadSupport"),
        // The store of record as the service sees it: the RecordStore protocol, its value types and
        // errors, and the rules every engine shares (writes, imports, tokens, popup links, users).
        .target(
            name: "StoreContract",
            dependencies: ["Contacts", "PhoneNumbers", "ThreadSupport", "CCrypt", "CLibCrypto"]),
        // The two engines, siblings over the contract: embedded SQLite, and PostgreSQL that several
        // API nodes share. Only the executable (and the tests) link them.
        .target(
            name: "SQLiteEngine",
            dependencies: ["StoreContract", "Contacts", "PhoneNumbers", "ThreadSupport", "CSQLite"]),
        .target(
            name: "PostgresEngine",
            dependencies: [
                "StoreContract", "Contacts", "PhoneNumbers", "ThreadSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // LDAPv3 messages as desk phones send them: BER (swift-asn1) in, BER out.
        .target(name: "LDAPProtocol", dependencies: [.product(name: "SwiftASN1", package: "swift-asn1")]),
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
                "StoreContract",
                "LookupIndex",
                "LDAPProtocol",
                "Contacts",
                "PhoneNumbers",
                "ThreadSupport",
                "CMalloc",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
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
                "StoreContract",
                "SQLiteEngine",
                "PostgresEngine",
                "LookupIndex",
                "Contacts",
                "PhoneNumbers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // Tests mirror the targets; fixtures live in TestSupport.
        .target(
            name: "TestSupport", dependencies: ["Contacts", .product(name: "SwiftASN1", package: "swift-asn1")], path: "Tests/TestSupport",
                resources: [.copy("Fixtures")]),
        .target(name: "FuzzHarness", dependencies: ["Contacts", "PhoneNumbers"], path: "Tests/Fuzz/Harness"),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness"]),
        .testTarget(name: "LDAPProtocolTests", dependencies: ["LDAPProtocol", "TestSupport", .product(name: "SwiftASN1", package: "swift-asn1")]),
        .testTarget(name: "PhoneNumbersTests", dependencies: ["PhoneNumbers", "CPhoneNumbers"]),
        .testTarget(name: "ContactsTests", dependencies: ["Contacts", "PhoneNumbers", "TestSupport"]),
        .testTarget(name: "SQLiteEngineTests", dependencies: ["SQLiteEngine", "StoreContract", "Contacts", "PhoneNumbers", "TestSupport"]),
        .testTarget(
            name: "PostgresEngineTests",
            dependencies: [
                "PostgresEngine", "SQLiteEngine", "StoreContract", "Contacts", "PhoneNumbers", "TestSupport",
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        // The store contract, the same tests on both engines.
        .testTarget(
            name: "StoreContractTests",
            dependencies: ["StoreContract", "SQLiteEngine", "PostgresEngine", "Contacts", "PhoneNumbers", "TestSupport"]),
        .testTarget(
            name: "LookupIndexTests", dependencies: ["LookupIndex", "SQLiteEngine", "StoreContract", "Contacts", "PhoneNumbers", "TestSupport"]),
        .testTarget(
            name: "CallerServiceTests",
            dependencies: [
                "CallerService", "SQLiteEngine", "PostgresEngine", "StoreContract", "ThreadSupport", "LookupIndex", "LDAPProtocol", "Contacts", "PhoneNumbers",
                "TestSupport", .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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

// Swift 6's upcoming rule that a file sees only the members of the modules it imports itself.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility"), .enableUpcomingFeature("InternalImportsByDefault")]
}
