// swift-tools-version:6.2
// The fleet: one OPS control plane (ControlPlane/) supervising venue-isolated engines (EnginePlane/)
// over a protobuf framed-TCP link (Proto/, Shared/). Dependency direction:
// Proto <- Shared <- {EnginePlane, ControlPlane}; the two planes never import each other.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "trading-fleet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ops", targets: ["ops"]),
        .executable(name: "engine-paper", targets: ["engine-paper"]),
        .executable(name: "demo-strategy", targets: ["demo-strategy"]),
        // Libraries the benchmark package (Tests/Benchmarks) builds against.
        .library(name: "FleetWire", targets: ["FleetWire"]),
        .library(name: "FleetProto", targets: ["FleetProto"]),
        .library(name: "TradingDomain", targets: ["TradingDomain"]),
        .library(name: "EngineRuntime", targets: ["EngineRuntime"]),
        .library(name: "PaperVenue", targets: ["PaperVenue"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Already in the graph through Hummingbird; named for OPS's signal route handler.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // MARK: Debian system libraries
        .systemLibrary(
            name: "CSystemd", path: "Shared/CSystem/CSystemd", pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Shared/CSystem/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Shared/CSystem/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CYAML", path: "Shared/CSystem/CYAML", pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CGcrypt", path: "Shared/CSystem/CGcrypt", pkgConfig: "libgcrypt",
            providers: [.apt(["libgcrypt20-dev"])]),

        // MARK: Proto: the wire contract (generated Swift, committed)
        .target(
            name: "FleetProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Proto/Swift", swiftSettings: strict),

        // MARK: Shared
        .target(name: "TradingDomain", path: "Shared/Domain", swiftSettings: strict),
        // Serial executors for actors that are not pinned to an event loop (the engine and OPS's router in tests and tools).
        .target(name: "Executors", path: "Shared/Executors", swiftSettings: strict),
        .target(name: "FleetCrypto", dependencies: ["CGcrypt"], path: "Shared/Crypto", swiftSettings: strict),
        .target(
            name: "FleetWire",
            dependencies: nio + [
                "FleetProto", "FleetCrypto", "TradingDomain", log,
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            path: "Shared/Wire", swiftSettings: strict),
        .target(name: "YAMLReader", dependencies: ["CYAML"], path: "Shared/YAML", swiftSettings: strict),
        // JSON objects written straight into bytes, for the per-order paths (audit lines, signal answers).
        .target(name: "JSONWriter", dependencies: ["TradingDomain"], path: "Shared/JSON", swiftSettings: strict),
        // A SQLite VFS that writes each commit's WAL frames with one write(2) (C: SQLite's VFS is C structs).
        .target(name: "WALWriteCoalescing", dependencies: ["CSQLite"], path: "Shared/WALWriteCoalescing"),
        .target(
            name: "Storage", dependencies: ["CSQLite", "WALWriteCoalescing"], path: "Shared/Storage",
            swiftSettings: strict),
        .target(
            name: "Telemetry",
            dependencies: [log, .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Shared/Telemetry", swiftSettings: strict),
        .target(name: "SystemdNotify", dependencies: ["CSystemd"], path: "Shared/Systemd", swiftSettings: strict),
        .target(name: "CurlHTTP", dependencies: ["CCurl"], path: "Shared/CurlHTTP", swiftSettings: strict),
        .target(
            name: "CommandLineSupport", dependencies: [argumentParser], path: "Shared/CommandLine",
            swiftSettings: strict),

        // MARK: EnginePlane
        .target(
            name: "EngineCore", dependencies: ["TradingDomain", "Storage", "Executors", "JSONWriter", log],
            path: "EnginePlane/Core", swiftSettings: strict),
        .target(
            name: "PaperVenue", dependencies: ["EngineCore", "TradingDomain", "Storage"],
            path: "EnginePlane/Venues/Paper", swiftSettings: strict),
        .target(
            name: "EngineRuntime",
            dependencies: [
                "EngineCore", "FleetWire", "FleetProto", "TradingDomain", "Telemetry", "SystemdNotify",
                "FleetCrypto", "YAMLReader", log, argumentParser, hummingbird, serviceLifecycle, prometheus,
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ] + nio,
            path: "EnginePlane/Runtime", swiftSettings: strict),
        .executableTarget(
            name: "engine-paper", dependencies: ["EngineRuntime", "PaperVenue", "CommandLineSupport"],
            path: "EnginePlane/Executables/engine-paper", swiftSettings: strict),

        // MARK: ControlPlane
        .target(
            name: "OPSConfig", dependencies: ["TradingDomain", "YAMLReader"],
            path: "ControlPlane/Config", swiftSettings: strict),
        .target(
            name: "FleetLink", dependencies: ["FleetWire", "FleetProto", "TradingDomain", log] + nio,
            path: "ControlPlane/FleetLink", swiftSettings: strict),
        .target(
            name: "StrategyRouter",
            dependencies: ["TradingDomain", "OPSConfig", "Storage", "FleetCrypto", "Executors"],
            path: "ControlPlane/Router", swiftSettings: strict),
        .target(
            name: "PnLBook", dependencies: ["TradingDomain", "FleetProto"], path: "ControlPlane/PnL",
            swiftSettings: strict),
        .target(
            name: "OPSServer",
            dependencies: [
                "OPSConfig", "FleetLink", "StrategyRouter", "PnLBook", "Telemetry", "SystemdNotify",
                "FleetProto", "TradingDomain", "Storage", "FleetWire", "JSONWriter", log, hummingbird, serviceLifecycle,
                prometheus,
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            path: "ControlPlane/Server", swiftSettings: strict),
        .executableTarget(
            name: "ops", dependencies: ["OPSServer", "CurlHTTP", "CommandLineSupport", argumentParser],
            path: "ControlPlane/Executables/ops", swiftSettings: strict),
        .executableTarget(
            name: "demo-strategy", dependencies: ["CurlHTTP", "TradingDomain", argumentParser],
            path: "ControlPlane/Executables/demo-strategy", swiftSettings: strict),

        // MARK: Tests
        .target(
            name: "FleetTestKit", dependencies: ["CurlHTTP", "FleetWire", "FleetProto"] + nio,
            path: "Tests/FleetTestKit", swiftSettings: strict),
        .testTarget(name: "TradingDomainTests", dependencies: ["TradingDomain", "JSONWriter"], swiftSettings: strict),
        .testTarget(
            name: "FleetWireTests",
            dependencies: [
                "FleetWire", "FleetProto", "FleetCrypto", "FleetTestKit",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ] + nio,
            swiftSettings: strict),
        .testTarget(
            name: "ConfigFileTests",
            dependencies: ["YAMLReader", "EngineRuntime", "EngineCore", "OPSConfig", "TradingDomain"],
            swiftSettings: strict),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "WALWriteCoalescing"], swiftSettings: strict),
        .testTarget(
            name: "EngineCoreTests", dependencies: ["EngineCore", "PaperVenue", "TradingDomain", "Storage"],
            swiftSettings: strict),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: ["StrategyRouter", "PnLBook", "OPSConfig", "TradingDomain", "FleetProto"],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["FleetTestKit", "CurlHTTP", "FleetWire", "FleetProto", "TradingDomain", "Storage"],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
