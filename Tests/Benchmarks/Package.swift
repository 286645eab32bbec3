// swift-tools-version:6.2
// The benchmark harness, in its own package so the main build and CI don't pay for its
// dependencies. Run it through deploy/bench.sh, which starts the fleet and writes docs/benchmarks.md.
import PackageDescription

let package = Package(
    name: "fleet-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "trading-fleet", path: "../.."),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "fleet-bench",
            dependencies: [
                .product(name: "FleetWire", package: "trading-fleet"),
                .product(name: "FleetProto", package: "trading-fleet"),
                .product(name: "TradingDomain", package: "trading-fleet"),
                .product(name: "CurlHTTP", package: "trading-fleet"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Sources/fleet-bench"),
    ],
    swiftLanguageModes: [.v6]
)
