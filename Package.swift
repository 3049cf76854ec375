// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// `FACTORLAB_TARGET_CPU=haswell swift build -c release` tunes the numeric targets for one CPU family (AVX2 and FMA
/// vector loops); the default build runs on any x86-64 or arm64 machine.
let tuning: [SwiftSetting] = ProcessInfo.processInfo.environment["FACTORLAB_TARGET_CPU"].map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

let package = Package(
    name: "FactorLab",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "factorlab", targets: ["factorlab"]),
        .library(name: "FactorCore", targets: ["FactorCore"]),
        .library(name: "FactorData", targets: ["FactorData"]),
        .library(name: "FactorExpr", targets: ["FactorExpr"]),
        .library(name: "FactorEval", targets: ["FactorEval"]),
        .library(name: "FactorStore", targets: ["FactorStore"]),
        .library(name: "FactorPlatform", targets: ["FactorPlatform"]),
        .library(name: "FactorServer", targets: ["FactorServer"]),
        .library(name: "FactorPython", targets: ["FactorPython"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "FactorCore", swiftSettings: tuning),
        .target(name: "FactorData", dependencies: ["FactorCore"], swiftSettings: tuning),
        .target(name: "FactorExpr", dependencies: ["FactorCore", "FactorData"], swiftSettings: tuning),
        .target(name: "FactorEval", dependencies: ["FactorCore", "FactorData", "FactorExpr"], swiftSettings: tuning),
        .target(name: "FactorPython", dependencies: ["FactorCore"]),
        .target(name: "FactorStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift"),
                                                   .product(name: "PostgresNIO", package: "postgres-nio"),
                                                   .product(name: "NIOSSL", package: "swift-nio-ssl"),
                                                   .product(name: "Logging", package: "swift-log")]),
        .target(name: "FactorPlatform", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval", "FactorStore", "FactorPython",
                                                      .product(name: "Logging", package: "swift-log"),
                                                      .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                      .product(name: "NIOCore", package: "swift-nio"),
                                                      .product(name: "NIOPosix", package: "swift-nio"),
                                                      .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .target(name: "FactorServer", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval", "FactorStore", "FactorPlatform", "FactorPython",
                                                     .product(name: "Hummingbird", package: "hummingbird"),
                                                     .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                     .product(name: "Metrics", package: "swift-metrics"),
                                                     .product(name: "Prometheus", package: "swift-prometheus")]),
        .executableTarget(
            name: "factorlab",
            dependencies: [
                "FactorCore", "FactorData", "FactorExpr", "FactorEval", "FactorStore", "FactorPlatform", "FactorServer", "FactorPython",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Shared by the test targets: running blocking work off the cooperative pool, finding the built executable.
        .target(name: "FactorTestSupport", dependencies: ["FactorStore"], path: "Tests/Support"),
        .testTarget(name: "FactorCoreTests", dependencies: ["FactorCore"]),
        .testTarget(name: "FactorPythonTests", dependencies: ["FactorCore", "FactorPython"]),
        .testTarget(name: "FactorDataTests", dependencies: ["FactorCore", "FactorData", "FactorTestSupport"]),
        .testTarget(name: "FactorExprTests", dependencies: ["FactorCore", "FactorData", "FactorExpr"]),
        .testTarget(name: "FactorEvalTests", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval"]),
        .testTarget(name: "FactorStoreTests", dependencies: ["FactorStore", "FactorTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "FactorPlatformTests", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval", "FactorStore", "FactorPlatform", "FactorPython", "FactorTestSupport",
                                                              .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "FactorServerTests", dependencies: ["FactorStore", "FactorPlatform", "FactorServer", "FactorPython", "FactorTestSupport",
                                                            .product(name: "Hummingbird", package: "hummingbird"),
                                                            .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(name: "ConformanceTests", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval", "FactorTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
