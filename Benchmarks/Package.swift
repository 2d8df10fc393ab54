// swift-tools-version:6.1
import PackageDescription

// The benchmark suites, a package of their own so benchmark dependencies never enter the product's
// graph. Run: cd Benchmarks && swift package benchmark
let package = Package(
    name: "caller-lookup-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "caller-lookup", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "LookupIndexBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LookupIndex", package: "caller-lookup"),
                .product(name: "Contacts", package: "caller-lookup"),
                .product(name: "PhoneNumbers", package: "caller-lookup"),
            ],
            path: "Benchmarks/LookupIndexBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
