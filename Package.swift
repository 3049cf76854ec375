// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "FactorLab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "factorlab", targets: ["factorlab"]),
        .library(name: "FactorCore", targets: ["FactorCore"]),
        .library(name: "FactorData", targets: ["FactorData"]),
        .library(name: "FactorExpr", targets: ["FactorExpr"]),
        .library(name: "FactorEval", targets: ["FactorEval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "FactorCore"),
        .target(name: "FactorData", dependencies: ["FactorCore"]),
        .target(name: "FactorExpr", dependencies: ["FactorCore", "FactorData"]),
        .target(name: "FactorEval", dependencies: ["FactorCore", "FactorData", "FactorExpr"]),
        .executableTarget(
            name: "factorlab",
            dependencies: [
                "FactorCore", "FactorData", "FactorExpr", "FactorEval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FactorCoreTests", dependencies: ["FactorCore"]),
        .testTarget(name: "FactorDataTests", dependencies: ["FactorCore", "FactorData"]),
        .testTarget(name: "FactorExprTests", dependencies: ["FactorCore", "FactorData", "FactorExpr"]),
        .testTarget(name: "FactorEvalTests", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval"]),
        .testTarget(name: "ConformanceTests", dependencies: ["FactorCore", "FactorData", "FactorExpr", "FactorEval"]),
    ],
    swiftLanguageModes: [.v6]
)
